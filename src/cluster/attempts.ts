/**
 * A job whose worker died while running it (SIGKILL, out of memory, a crash in a stage's
 * native code) leaves no error behind: BullMQ only sees its lock expire and puts it back in the
 * queue (a stalled job), without counting an attempt. A unit that kills its worker every time
 * would so go round the workers until BullMQ's stall limit, and the run would fail with "job
 * stalled more than allowable limit". Here each start counts against the job's attempts
 * (`--attempts` for units): a start past them fails the job for good, naming the unit and why.
 */
import { ClusterError } from '../errors';

export interface StartedJob {
  name: string;
  /** Times a worker took the job, this start included. */
  attemptsStarted: number;
  /** Attempts that ended with an error (a stalled start is not one). */
  attemptsMade: number;
  opts: { attempts?: number };
  data: { runId: string; unit?: number; file?: string };
}

/** Throws (a ClusterError, not retried) when this start is past the job's attempts; else the starts that died before it. */
export function refuseDiedTooOften(job: StartedJob): number {
  const attempts = job.opts.attempts ?? 1;
  const died = Math.max(0, job.attemptsStarted - 1 - job.attemptsMade);
  if (job.attemptsStarted <= attempts || died === 0) return died;
  const { runId, unit, file } = job.data;
  // Said after "unit n (file) failed after k attempt(s):" by the driver and `sluice status`.
  throw new ClusterError(
    `the worker running it died ${died} time(s) (the process ended without a word: SIGKILL, out of memory, or a crash in a stage's native code; see the workers' logs and the kernel's); the ${job.name === 'unit' ? 'unit' : `${job.name} job`} is not tried again (attempts: ${attempts})`,
    { runId, ...(unit !== undefined && { unit }), ...(file !== undefined && { file }) },
  );
}
