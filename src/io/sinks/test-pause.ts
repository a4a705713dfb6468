/**
 * A test hook: `SLUICE_TEST_PAUSE_AT=<point>` makes the process stop itself (SIGSTOP) when it
 * reaches that point, so a test can look at what is on disk there, or `kill -9` it there, with
 * no timing. Points: `after-commit` (the sink's rename published its output; nothing after it
 * has run: the lock is still held, the run's report unwritten). Unset, it costs one lookup.
 */
export function pauseForTest(point: 'after-commit'): void {
  if (process.env.SLUICE_TEST_PAUSE_AT === point) process.kill(process.pid, 'SIGSTOP');
}
