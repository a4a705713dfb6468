/**
 * The fair-share clock the suite's hang limits run on (test/helpers/fair-clock.cjs): it fires,
 * it can be cancelled, and waitFor names what it waited for. (How much a busy machine stretches
 * it depends on the load while the test runs, so it is not asserted here.)
 */
import { cpuShare, fairTimeout, loadStretch, waitFor } from '../../helpers/fair-clock';

it('reads a share of a core in (0, 1] and a stretch ≥ 1', () => {
  expect(cpuShare()).toBeGreaterThan(0);
  expect(cpuShare()).toBeLessThanOrEqual(1);
  expect(loadStretch()).toBeGreaterThanOrEqual(1);
});

it('fires once the time has passed, and not after cancel', async () => {
  let cancelledFired = false;
  const cancel = fairTimeout(300, () => (cancelledFired = true));
  cancel();
  await new Promise<void>((resolve) => fairTimeout(300, resolve));
  expect(cancelledFired).toBe(false);
});

it('waitFor resolves when the condition holds and rejects naming what it waited for', async () => {
  let n = 0;
  await waitFor(() => ++n > 3, 'n to pass 3', 10_000);
  expect(n).toBe(4);
  await expect(waitFor(() => false, 'a condition that never holds', 300)).rejects.toThrow(/timed out waiting for a condition that never holds/);
});
