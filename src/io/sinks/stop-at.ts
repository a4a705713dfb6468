/**
 * Test hook: `SLUICE_TEST_STOP_AT=<step>` stops the process (SIGSTOP) at that step of a commit,
 * so a test can look at the disk there or SIGKILL it exactly there, with no timing
 * (test/e2e/commit-crash, run-bookkeeping). `replay`: half-way through a resumable run's
 * replay of its staged units into the sinks (io/units), before any rename. Steps of a commit of several outputs, and
 * `after-commit`: a sink's rename published its output and nothing after it has run (the lock
 * still held, the run's report unwritten). Read once at load, like SLUICE_STRICT_LEASES: when
 * unset, `stopAt` is an empty function.
 */
export type CommitStep = 'replay' | 'before-journal' | 'after-journal' | 'between-renames' | 'after-renames' | 'after-commit';

const STOP_AT = process.env.SLUICE_TEST_STOP_AT;

export const stopAt: (step: CommitStep) => void =
  STOP_AT === undefined
    ? () => undefined
    : (step) => {
        if (step === STOP_AT) process.kill(process.pid, 'SIGSTOP');
      };

/**
 * `SLUICE_TEST_STOP_AT=unit-<n>`: stop once the n-th unit (1-based) of a resumable run is
 * recorded in its manifest (io/units), so a test can SIGKILL the run with the next unit in flight.
 */
export const stopAtUnit: (n: number) => void =
  STOP_AT === undefined || !STOP_AT.startsWith('unit-')
    ? () => undefined
    : (n) => {
        if (`unit-${n}` === STOP_AT) process.kill(process.pid, 'SIGSTOP');
      };
