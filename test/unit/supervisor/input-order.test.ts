/**
 * InputOrderFailures (supervisor/input-order.ts): a failure is reported only once every item
 * before it has settled, whatever order the copies finish in.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { InputOrderFailures } from '../../../src/supervisor/input-order';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Records the order in which the tracked promises settle. */
function recorder() {
  const seen: string[] = [];
  const watch = (name: string, p: Promise<unknown>) =>
    p.then(
      () => seen.push(`${name} ok`),
      () => seen.push(`${name} failed`),
    );
  return { seen, watch };
}

describe('InputOrderFailures', () => {
  it('a failure waits for every earlier item, not only the one just before it', async () => {
    const failures = new InputOrderFailures();
    const [a, b, c] = [deferred<string>(), deferred<string>(), deferred<string>()];
    const { seen, watch } = recorder();
    const all = [watch('a', failures.track(a.promise)), watch('b', failures.track(b.promise)), watch('c', failures.track(c.promise))];
    c.reject(new Error('c'));
    b.resolve('b'); // the item just before c is done; a, earlier still, is not
    await all[1];
    await new Promise((resolve) => setImmediate(resolve)); // every settled promise has run its reactions
    expect(seen).toEqual(['b ok']); // c failed first, and still waits for a
    a.reject(new Error('a'));
    await Promise.all(all);
    expect(seen).toEqual(['b ok', 'a failed', 'c failed']);
  });

  it('successes are not held back, and errors the caller does not order pass at once', async () => {
    const failures = new InputOrderFailures();
    const first = deferred<string>();
    const tracked = failures.track(first.promise);
    await expect(failures.track(Promise.resolve('second'))).resolves.toBe('second');
    await expect(failures.track(Promise.reject(new Error('not ordered')), () => false)).rejects.toThrow('not ordered');
    first.resolve('first');
    await expect(tracked).resolves.toBe('first');
  });

  it('keeps the original error', async () => {
    const failures = new InputOrderFailures();
    const err = new Error('kept');
    await expect(failures.track(Promise.reject(err))).rejects.toBe(err);
  });

  it('keeps no result of an item once it has settled (a run passes every batch through it)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const failures = new InputOrderFailures();
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 20; i++) {
      const batch = { bytes: new Uint8Array(1024) };
      refs.push(new WeakRef(batch));
      await failures.track(Promise.resolve(batch));
    }
    // A later item still running: the chain is alive, and must not hold the earlier values.
    const running = deferred<object>();
    const last = failures.track(running.promise);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    // At most the last one (V8 may keep the value this function last awaited): not all 20.
    expect(refs.filter((r) => r.deref() !== undefined).length).toBeLessThanOrEqual(1);
    running.resolve({});
    await last;
  });
});
