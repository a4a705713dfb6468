/**
 * Everything that can end a run from outside the promises it awaits, turned into the run's
 * one failure, so the run always rejects, cleans up and exits non-zero. The failure itself
 * (first wins) and the cleanup are the run's teardown's (teardown.ts); the guard only feeds it:
 *
 * - the abort signal (SIGINT / SIGTERM / SIGHUP in the CLI, the caller's AbortSignal in
 *   `run()`), also while the run is still starting up;
 * - an error an inline stage throws from a timer or callback, or a promise it rejects and
 *   never handles: blamed on the stage, copy and batch it came from (executors/inline-context);
 * - `process.exit()` called by inline stage code: it would end the process with the stage's
 *   code (often 0) in the middle of the run, so it throws inside the stage instead;
 * - Node running out of work while the run waits (a stage promise that never settles and
 *   nothing else pending): Node would exit 0 with the run half done ('beforeExit').
 *
 * Last resort, for what no listener can stop (`process.exit` outside any stage): an 'exit'
 * while the run is pending turns a success code into 70 (EX_SOFTWARE) and says why.
 *
 * Several runs in one process (a program calling `run()` twice at once, a worker running units
 * of a cluster job) each have a guard; an error that escapes is the failure of the run whose
 * code raised it (`RunGuard.scope`, an AsyncLocalStorage the run's work starts in), not of
 * every run. One that no run's context claims fails every run: it cannot be placed, and a run
 * that might have lost work must not succeed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AbortedError, StageError, isError } from '../errors';
import { inlineWork } from '../executors/inline-context';
import { StalledError, watchStall } from '../executors/stall';
import type { Teardown } from './teardown';

export { StalledError };

/**
 * What `process.exit()` inside an inline stage throws. It is the stage ending its copy, not a row
 * it could not take: like a thread or child copy's exit, it fails the run whatever `onError`
 * says (an inline stage has no copy to replace, so no retry can make it a poison batch), and
 * the rows are never bisected for it (runtime/bisect.ts).
 */
export class ExitCalledError extends Error {
  constructor(readonly code: number | string | null | undefined) {
    super(`the stage called process.exit(${code ?? ''}); a stage must throw to fail the run (exiting would end it without cleaning up)`);
    this.name = 'ExitCalledError';
  }
}

/** Node exits on its own; the code says the run was cut short (sysexits EX_SOFTWARE). */
export const EXIT_CUT_SHORT = 70;

/** The guard of the run whose work is running now (set by `RunGuard.scope`). */
const runs = new AsyncLocalStorage<RunGuard>();

export class RunGuard {
  private readonly undo: Array<() => void> = [];

  constructor(
    signal: AbortSignal | undefined,
    /** What the run is waiting for now, for the stall message ("stage "x", batch #3"). */
    private readonly pending: () => string,
    /** The run's teardown: holds the first failure, tears down what the run opened. */
    private readonly teardown: Teardown,
  ) {
    // First registered, so torn down (or released) last: the listeners stay until everything else is down.
    teardown.add('the run guard (signal and process listeners)', { abort: () => this.dispose(), release: () => this.dispose() });
    if (signal) {
      const onAbort = () => this.fail(new AbortedError(String(signal.reason ?? 'signal')));
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.undo.push(() => signal.removeEventListener('abort', onAbort));
      }
    }
    this.listen('uncaughtException', (err: unknown) => this.mine() && this.fail(blame(err, 'an error thrown outside any task')));
    this.listen('unhandledRejection', (err: unknown) => this.mine() && this.fail(blame(err, 'a promise rejection nobody handled')));
    const stall = watchStall(() => this.pending());
    stall.stalled.catch((err: unknown) => this.fail(err));
    this.undo.push(() => stall.dispose());
    // First in line: the CLI's own last resort (cli/main.ts) is more general and says less.
    const onExit = (code: number) => {
      if (code !== 0) return;
      process.exitCode = EXIT_CUT_SHORT;
      process.stderr.write(`sluice: the process exited (code ${code}) while the run was still going; nothing was committed\n`);
    };
    process.prependListener('exit', onExit);
    this.undo.push(() => process.off('exit', onExit));
    this.patchExit();
  }

  /** Run `work` as this run's: what escapes from it (and from what it starts) is this run's failure. */
  scope<T>(work: () => T): T {
    return runs.run(this, work);
  }

  /** Whether an escaped error belongs to this run: raised in its work, or in no run's. */
  private mine(): boolean {
    const owner = runs.getStore();
    return owner === undefined || owner === this;
  }

  /** Stop the run with `err` unless it has already failed (the teardown keeps the first). */
  fail(err: unknown): void {
    void this.teardown.fail(err);
  }

  /**
   * Throw the run's failure unless it is the abort signal: just before the sink publishes its
   * output, a stage's late error (a timer, a rejection nobody handled) stops the commit, while
   * a signal lets a commit that has begun finish, as it always has.
   */
  throwIfFailedOtherThanAbort(): void {
    if (this.teardown.failed && !(this.teardown.error instanceof AbortedError)) throw this.teardown.error;
  }

  /** The run settled: give Node its usual behaviour back. */
  dispose(): void {
    for (const undo of this.undo.splice(0)) undo();
  }

  private listen(event: string, handler: (...args: never[]) => void): void {
    process.on(event, handler as (...args: unknown[]) => void);
    this.undo.push(() => process.off(event, handler as (...args: unknown[]) => void));
  }

  private patchExit(): void {
    const original = process.exit;
    const patched = ((code?: number | string | null) => {
      const work = inlineWork.getStore();
      if (!work) return original.call(process, code);
      throw new ExitCalledError(code);
    }) as typeof process.exit;
    process.exit = patched;
    this.undo.push(() => {
      if (process.exit === patched) process.exit = original;
    });
  }
}

/** An error that escaped a stage's promises, blamed on the inline stage whose code raised it. */
function blame(err: unknown, how: string): unknown {
  const work = inlineWork.getStore();
  if (!work) return isError(err) ? err : new Error(`${how}: ${String(err)}`);
  const { phase, ...where } = work;
  return new StageError(where, phase, err, how);
}
