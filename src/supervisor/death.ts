/**
 * The one mapping from a copy's death to the run's error, for every kind of copy: a thread
 * taken down by an uncaught error is the stage's error (StageError); a thread or child that
 * exited or was killed by a signal is a WorkerExitError; a copy the watchdog killed for taking
 * too long is a StageError saying so. Each names stage, copy and batch, and how many attempts
 * the batch had when retries were allowed.
 */
import { StageError, WorkerExitError, type BatchLocation, type SluiceError } from '../errors';
import { CopyTimeoutError } from './attempts';
import type { CopyExit } from './types';

export interface DeathContext {
  /** Last words (a child's last stderr lines, why its channel broke). */
  detail?: string;
  /** Attempts the batch had (said when more than one). */
  attempts?: number;
  /** Why the copy was not replaced (a stage with flush). */
  unreplaceable?: string;
}

export function deathError(death: CopyExit | CopyTimeoutError, location: BatchLocation, phase: StageError['phase'], ctx: DeathContext = {}): SluiceError {
  const tried = [ctx.attempts && ctx.attempts > 1 ? `after ${ctx.attempts} attempts` : undefined, ctx.unreplaceable].filter(Boolean).join('; ');
  if (death instanceof CopyTimeoutError) {
    const why = new Error(`no answer within its timeout of ${formatMs(death.timeoutMs)}`);
    return new StageError(location, phase, why, ['the copy was killed', tried].filter(Boolean).join('; '));
  }
  if (death.error !== undefined) {
    return new StageError(location, phase, death.error, ['an error thrown outside any task; it ended the worker thread', tried].filter(Boolean).join('; '));
  }
  const detail = [tried, ctx.detail].filter(Boolean).join('') || undefined;
  return new WorkerExitError(location, { exitCode: death.exitCode, signal: death.signal, detail });
}

/** `2 s`, `500 ms`: a timeout as the messages say it. */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
