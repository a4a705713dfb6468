/**
 * The one mapping from a copy's death to the run's error, for every kind of copy (a stage's
 * threads and children, the source thread, the Parquet encoder threads), so a death reads the
 * same in every mode: a thread taken down by an uncaught error is the stage's error
 * (StageError); a thread or child that exited or was killed by a signal (an OOM kill is
 * SIGKILL) is a WorkerExitError; a copy the watchdog killed for taking too long is a StageError
 * saying so. Each names stage, copy and batch, and how many attempts the batch had when retries
 * were allowed.
 *
 * Every copy rejects the requests it owes with a CopyDiedError (types.ts) and reports its death
 * once (`onDeath`); nothing else turns a death into words.
 */
import { PoisonBatchError, StageError, WorkerExitError, type BatchLocation, type SluiceError } from '../errors';
import { CopyDiedError, type CopyExit } from './types';

/** The watchdog gave up on a request: its copy was killed. */
export class CopyTimeoutError extends CopyDiedError {
  /** `seq`: the batch that got no answer (what the copy's other requests, killed with it, are told). */
  constructor(
    readonly timeoutMs: number,
    readonly seq?: number,
  ) {
    super({ exitCode: null, signal: null });
    this.message = `took longer than its timeout of ${timeoutMs} ms; the copy was killed`;
    this.name = 'CopyTimeoutError';
  }
}

export interface DeathContext {
  /** Last words (a child's last stderr lines, why its channel broke); a CopyDiedError's own are used when absent. */
  detail?: string;
  /** Attempts the batch had (said when more than one). */
  attempts?: number;
  /** Why the copy was not replaced (a stage with flush; sluice's own threads). */
  unreplaceable?: string;
  /** What the copy is when it is not a copy of the user's stage ("the Parquet encoder thread 0"). */
  copyName?: string;
}

/**
 * `death`: how the copy ended (its exit), or the CopyDiedError a request of it rejected with.
 * A copy the watchdog killed for another batch's timeout tells that batch (`seq`), whichever of
 * its requests reaches the run first.
 */
export function deathError(death: CopyExit | CopyDiedError, location: BatchLocation, phase: StageError['phase'], ctx: DeathContext = {}): SluiceError {
  const tried = [ctx.copyName, ctx.attempts && ctx.attempts > 1 ? `after ${ctx.attempts} attempts` : undefined, ctx.unreplaceable].filter(Boolean).join('; ');
  if (death instanceof CopyTimeoutError) {
    const at = death.seq !== undefined ? { ...location, seq: death.seq } : location;
    const why = new Error(`no answer within its timeout of ${formatMs(death.timeoutMs)}`);
    return new StageError(at, phase, why, ['the copy was killed', tried].filter(Boolean).join('; '));
  }
  const exit = death instanceof CopyDiedError ? death.exit : death;
  const lastWords = ctx.detail ?? (death instanceof CopyDiedError ? death.detail : undefined);
  if (exit.error !== undefined) {
    return new StageError(location, phase, exit.error, ['an error thrown outside any task; it ended the worker thread', tried].filter(Boolean).join('; '));
  }
  const detail = [tried, lastWords].filter(Boolean).join('') || undefined;
  return new WorkerExitError(location, { exitCode: exit.exitCode, signal: exit.signal, detail });
}

/** `2 s`, `500 ms`: a timeout as the messages say it. */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * The last attempt of a batch died. With `onError: 'skip' | 'dead-letter'` and a copy that can be
 * replaced, the batch is poison, not the run's end: a new copy takes the dead one's place and the
 * batch's rows are rejected whole (PoisonBatchError). Otherwise the death is the run's error.
 */
export async function afterLastAttempt(death: SluiceError, o: { onError: string | undefined; attempts: number; unreplaceable: string | undefined; location: BatchLocation; replace: () => Promise<unknown> }): Promise<never> {
  if ((o.onError === 'skip' || o.onError === 'dead-letter') && o.attempts > 1 && o.unreplaceable === undefined) {
    await o.replace();
    throw new PoisonBatchError(o.location, 'process', death, `it killed its copy on each of ${o.attempts} attempts`);
  }
  throw death;
}

