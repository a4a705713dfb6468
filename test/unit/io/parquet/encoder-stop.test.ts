/**
 * An encoder thread is never terminated inside polars (a termination there panics, and under
 * load once took the process down with SIGSEGV): `destroy` waits on the thread's busy flag
 * after the grace time. These drive that wait with the flag alone, no timing.
 */
import { outOfPolars } from '../../../../src/io/parquet/encoder/pool';

const flag = (v: number) => {
  const a = new Int32Array(new SharedArrayBuffer(4));
  a[0] = v;
  return a;
};
const never = new Promise<never>(() => undefined);
const settled = async (p: Promise<unknown>) => Promise.race([p.then(() => true), new Promise((r) => setImmediate(() => r(false)))]);

describe('outOfPolars', () => {
  it('returns at once for a thread between messages', async () => {
    expect(await settled(outOfPolars(flag(0), never))).toBe(true);
  });

  it('waits while the thread encodes, and returns once it leaves polars', async () => {
    const busy = flag(1);
    const wait = outOfPolars(busy, never);
    expect(await settled(wait)).toBe(false);
    Atomics.store(busy, 0, 0);
    Atomics.notify(busy, 0);
    await expect(wait).resolves.toBeUndefined();
  });

  it('returns when the thread exits while busy (it saw the stop flag)', async () => {
    let exit!: () => void;
    const exited = new Promise<void>((r) => (exit = r));
    const wait = outOfPolars(flag(1), exited);
    expect(await settled(wait)).toBe(false);
    exit();
    await expect(wait).resolves.toBeUndefined();
  });
});
