/**
 * Test hook: `SLUICE_TEST_STOP_AT=<step>` stops the process (SIGSTOP) at that step of a
 * commit of several outputs, so a test can SIGKILL it exactly there (test/e2e/commit-crash).
 * Read once at load, like SLUICE_STRICT_LEASES: when unset, `stopAt` is an empty function.
 */
export type CommitStep = 'before-journal' | 'after-journal' | 'between-renames' | 'after-renames';

const STOP_AT = process.env.SLUICE_TEST_STOP_AT;

export const stopAt: (step: CommitStep) => void =
  STOP_AT === undefined
    ? () => undefined
    : (step) => {
        if (step === STOP_AT) process.kill(process.pid, 'SIGSTOP');
      };
