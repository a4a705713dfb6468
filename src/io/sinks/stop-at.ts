/**
 * Test hook: `SLUICE_TEST_STOP_AT=<step>` stops the process (SIGSTOP) at that step of a commit,
 * so a test can look at the disk there or SIGKILL it exactly there, with no timing
 * (test/e2e/commit-crash, run-bookkeeping). `replay`: half-way through a resumable run's
 * replay of its staged units into the sinks (io/units), before any rename. Steps of a commit of several outputs, and
 * `after-commit`: a sink's rename published its output and nothing after it has run (the lock
 * still held, the run's report unwritten). Read once at load, like SLUICE_STRICT_LEASES: when
 * unset, `stopAt` is an empty function.
 *
 * `SLUICE_TEST_STOP_ONCE=<marker file>` as well: only the first process to reach the step
 * stops (it creates the marker, O_EXCL), so a retry of the same job on another process of a
 * cluster run (same environment) goes through the step (test/e2e/cluster-failures).
 */
import { closeSync, openSync } from 'node:fs';

export type CommitStep = 'replay' | 'before-journal' | 'after-journal' | 'between-renames' | 'after-renames' | 'after-commit';

const STOP_AT = process.env.SLUICE_TEST_STOP_AT;
const STOP_ONCE = process.env.SLUICE_TEST_STOP_ONCE;

/** Whether this process is the one to stop: every time, or (SLUICE_TEST_STOP_ONCE) the first to create the marker. */
function first(): boolean {
  if (STOP_ONCE === undefined) return true;
  try {
    closeSync(openSync(STOP_ONCE, 'wx'));
    return true;
  } catch {
    return false;
  }
}

function stopHere(): void {
  if (first()) process.kill(process.pid, 'SIGSTOP');
}

export const stopAt: (step: CommitStep) => void =
  STOP_AT === undefined
    ? () => undefined
    : (step) => {
        if (step === STOP_AT) stopHere();
      };

/**
 * `SLUICE_TEST_STOP_AT=unit-<n>`: stop once the n-th unit (1-based) of a resumable run is
 * recorded in its manifest (io/units), so a test can SIGKILL the run with the next unit in flight.
 */
export const stopAtUnit: (n: number) => void =
  STOP_AT === undefined || !STOP_AT.startsWith('unit-')
    ? () => undefined
    : (n) => {
        if (`unit-${n}` === STOP_AT) stopHere();
      };

/**
 * `SLUICE_TEST_STOP_AT=cluster-unit-<n>`: a worker of a cluster run stops once unit n (0-based,
 * as its job id) is staged durably in its attempt directory and before its result goes to Redis,
 * so a test can hold it there past its lock (src/cluster/unit.ts).
 */
export const stopAtClusterUnit: (unit: number) => void =
  STOP_AT === undefined || !STOP_AT.startsWith('cluster-unit-')
    ? () => undefined
    : (unit) => {
        if (`cluster-unit-${unit}` === STOP_AT) stopHere();
      };
