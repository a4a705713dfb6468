/**
 * One supervisor for every worker the engine starts: a stage's threads and child processes,
 * the source thread, the Parquet encoder threads. Whatever the transport, a copy is started,
 * asked for work, closed (asked to finish, then made to), killed, and says once that it died.
 * (The shape of vitest's pool workers: one small interface, a thread and a fork beside it.)
 */

/** How a copy ended. `error`: the uncaught error that took a thread down, if that was it. */
export interface CopyExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  error?: unknown;
}

export interface Copy {
  /** Which copy this is (0-based), as the stage's ctx.copy sees it. */
  readonly copy: number;
  /** Set once the copy is gone (asked to or not). */
  readonly exit: CopyExit | undefined;
  /** Started, not gone, and able to take work. */
  readonly alive: boolean;
  /** Resolves when the copy is up and can take work. */
  start(): Promise<void>;
  /** Finish what it has, then end; made to end if it takes too long. Never rejects. */
  close(): Promise<void>;
  /**
   * End now, dropping what it was doing: a request it still owes rejects with `why` (the
   * watchdog's CopyTimeoutError; default: a CopyDiedError, or the stop of the run), or, for a
   * thread's running task let finish in its grace time, with its late answer, which the
   * watchdog discards (attempts.ts). Never rejects.
   */
  kill(why?: Error): Promise<void>;
  /** The one death signal: called once if the copy ends without close() or kill() asking. */
  onDeath(listener: (exit: CopyExit) => void): void;
}

/** A copy that answers requests (a stage's thread or child): `inFlight` is its load. */
export interface RequestCopy<Req, Res> extends Copy {
  readonly inFlight: number;
  /**
   * Rejects with a CopyDiedError when the copy dies before it answers (in every mode: a
   * thread's exit or uncaught error, a child's exit code or signal, the watchdog's kill); the
   * one mapping from that to the run's error is supervisor/death.ts.
   */
  request(req: Req): Promise<Res>;
}

/**
 * A request failed because its copy died: what every kind of copy rejects with, so a death is
 * told apart from a stage's own error the same way in every mode (the caller names the stage
 * and batch, through deathError). `detail`: the copy's last words (a child's last stderr lines).
 */
export class CopyDiedError extends Error {
  constructor(
    readonly exit: CopyExit,
    readonly detail?: string,
  ) {
    super(exit.signal ? `killed by ${exit.signal}` : exit.error !== undefined ? `ended by an uncaught error: ${String((exit.error as Error)?.message ?? exit.error)}` : `exited with code ${exit.exitCode ?? 'unknown'}`);
    this.name = 'CopyDiedError';
  }
}

/** The least busy copy still alive with room for one more task (lowest index on ties). */
export function leastBusy<C extends { readonly inFlight: number; readonly alive: boolean }>(copies: readonly C[], perCopy: number): C | undefined {
  let best: C | undefined;
  for (const c of copies) {
    if (!c.alive || c.inFlight >= perCopy) continue;
    if (!best || c.inFlight < best.inFlight) best = c;
  }
  return best;
}

/**
 * How long a stopped thread may finish the work it is running before it is terminated.
 * Terminating a thread inside polars while polars writes to a JavaScript stream (a Parquet
 * encode, a parse or a conversion into a slab) makes polars panic: a Rust backtrace on stderr
 * beside the run's real error (5 of 6 runs whose thread stage failed while the Parquet encoder
 * worked). That work takes milliseconds to a few hundred; longer (a hung stage) is terminated.
 */
export const STOP_GRACE_MS = 1000;

/** Resolves true when `p` settles within `ms`, false otherwise; never keeps the process alive. */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    p.then(done, done);
  });
}

/**
 * Waits for a process asked to finish; past `closeMs` sends SIGTERM, and past `killMs` more
 * SIGKILL (as vitest's forks pool and jest-worker do). True when it ended by itself.
 */
export async function stopEscalating(exited: Promise<unknown>, signal: (s: NodeJS.Signals) => void, ms: { closeMs: number; killMs: number }, warn: (message: string) => void): Promise<boolean> {
  if (await settlesWithin(exited, ms.closeMs)) return true;
  warn(`child did not exit within ${ms.closeMs} ms of close; sending SIGTERM`);
  signal('SIGTERM');
  if (await settlesWithin(exited, ms.killMs)) return false;
  signal('SIGKILL');
  if (!(await settlesWithin(exited, ms.killMs))) warn('child survived SIGKILL; giving up on it');
  return false;
}
