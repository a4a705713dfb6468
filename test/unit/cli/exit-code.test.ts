import { AbortedError, StageError } from '../../../src/errors';
import { StalledError } from '../../../src/runtime/guard';
import { failedRunExitCode } from '../../../src/cli/exit-code';

describe('the exit code of a failed run', () => {
  it('is the signal\'s when the signal aborted the run', () => {
    expect(failedRunExitCode(new AbortedError('SIGTERM'), 143)).toBe(143);
  });

  // Seen in CI: a hung inline stage was reported as stalled, the test's SIGTERM landed during
  // the cleanup, and the run exited 143 while saying "cannot finish".
  it('is 1 when the run failed on its own first, even if a signal came during cleanup', () => {
    expect(failedRunExitCode(new StalledError('stage "boom" (inline) on batch #3'), 143)).toBe(1);
    expect(failedRunExitCode(new StageError({ stage: 'boom', copy: 0, seq: 3 }, 'process', new Error('x')), 130)).toBe(1);
  });

  it('is 1 when no signal came', () => {
    expect(failedRunExitCode(new AbortedError('caller'), 0)).toBe(1);
    expect(failedRunExitCode(undefined, 0)).toBe(1);
    expect(failedRunExitCode('a string', 0)).toBe(1);
  });
});
