/**
 * The resumable run's I/O queue (io/units/io-queue.ts): operations run one after the other in
 * the order queued (a unit's manifest line after its files' fsyncs); the first failure stops
 * what was queued after it (no manifest line for a unit whose file failed) except `always`,
 * and is thrown by `check` and `idle`.
 */
import { IoQueue } from '../../../../src/io/units/io-queue';

it('runs operations in the order queued, one at a time', async () => {
  const q = new IoQueue();
  const log: string[] = [];
  let resolveFirst!: () => void;
  q.push(() => new Promise<void>((r) => (resolveFirst = () => (log.push('file fsynced'), r()))));
  q.push(async () => void log.push('manifest line'));
  await Promise.resolve();
  await Promise.resolve();
  expect(log).toEqual([]);
  resolveFirst();
  await q.idle();
  expect(log).toEqual(['file fsynced', 'manifest line']);
});

it('the first failure stops the rest but for `always`, and is thrown by check and idle', async () => {
  const q = new IoQueue();
  const log: string[] = [];
  q.push(async () => {
    throw new Error('ENOSPC: no space left on device');
  });
  q.push(async () => void log.push('manifest line'));
  q.always(async () => void log.push('closed'));
  await expect(q.idle()).rejects.toThrow('ENOSPC');
  expect(() => q.check()).toThrow('ENOSPC');
  expect(log).toEqual(['closed']);
  await expect(q.run(async () => 1)).rejects.toThrow('ENOSPC');
});
