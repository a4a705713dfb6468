import { Worker } from 'node:worker_threads';
import { tableFromArrays } from 'apache-arrow';
import pl from 'nodejs-polars';
import { batchToDataFrame, dataFrameToSlab } from '../../../src/batch/polars';
import { SlabArena, isSlab, refCount } from '../../../src/batch/slab';
import { backingOf, buffersOf, fromShared, toShared } from '../../../src/batch/shared';
import { allTypesBatch, expectBatchesEqual } from '../../helpers/arrow-types';

describe('batches in shared memory', () => {
  it('round-trips every Arrow type, all buffers in SharedArrayBuffers', () => {
    const arena = new SlabArena();
    const batch = allTypesBatch(9);
    const { shared, lease, packedBytes } = toShared([batch], arena);
    expect(packedBytes).toBeGreaterThan(0);
    const [back] = fromShared(shared);
    expectBatchesEqual(back, batch);
    const buffers = buffersOf([back]);
    expect(buffers.length).toBeGreaterThan(30);
    expect(buffers.every((b) => b instanceof SharedArrayBuffer && isSlab(b))).toBe(true);
    lease.release();
  });

  it('a batch polars wrote into a slab keeps pointing at its IPC file bytes across threads, and polars reads it from there', () => {
    const arena = new SlabArena();
    const df = pl.DataFrame({ id: [1, 2, 3], name: ['a', null, 'a longer string than twelve bytes'], when: [new Date(0), new Date(86_400_000), null] });
    const born = dataFrameToSlab(df, arena);
    const [batch] = born.batches;
    const file = born.backing!;
    expect(file.format).toBe('ipc-file');
    expect(file.slab).toBe(buffersOf([batch])[0]);
    const { shared, lease } = toShared([batch], arena, { backing: file });
    const [back] = fromShared(shared);
    expect(backingOf(shared)).toEqual(file); // the same slab and place, in whatever thread rebuilt it
    // Two batches are not one IPC file: the place is not passed on.
    const two = toShared([batch, batch.slice(1, 2)], arena, { backing: file });
    expect(backingOf(two.shared)).toBeUndefined();
    two.lease.release();
    expect(batchToDataFrame(back, backingOf(shared)).frameEqual(df, true)).toBe(true);
    expect(batchToDataFrame(batch.slice(1, 2)).frameEqual(df.slice(1, 1), true)).toBe(true);
    lease.release();
    born.lease.release();
  });

  it('round-trips sliced data (offset != 0)', () => {
    const arena = new SlabArena();
    const batch = allTypesBatch(12).slice(5, 11);
    const [back] = fromShared(toShared([batch], arena).shared);
    expectBatchesEqual(back, batch);
  });

  it('references buffers already in slabs instead of copying them', () => {
    const arena = new SlabArena();
    const first = toShared([allTypesBatch(5)], arena);
    const [shared] = fromShared(first.shared);
    const again = toShared([shared, shared.slice(1, 3)], arena);
    expect(again.packedBytes).toBe(0);
    expect(again.shared.slabs).toEqual(first.shared.slabs);
    expect(refCount(first.shared.slabs[0])).toBe(2);
    first.lease.release();
    again.lease.release();
    expect(refCount(first.shared.slabs[0])).toBe(0);
  });

  it('recycles slabs: steady state allocates nothing new', () => {
    const arena = new SlabArena();
    const batch = tableFromArrays({ x: Float64Array.from({ length: 10_000 }, (_, i) => i) }).batches[0];
    for (let i = 0; i < 100; i++) toShared([batch], arena).lease.release();
    expect(arena.stats.allocations).toBe(1);
    expect(arena.stats.reuses).toBe(99);
    // two in flight at once need two slabs, no more
    const a = toShared([batch], arena);
    const b = toShared([batch], arena);
    expect(arena.stats.allocations).toBe(2);
    a.lease.release();
    b.lease.release();
  });

  it('a slab released from another thread is reused by its owner', async () => {
    const arena = new SlabArena();
    const batch = tableFromArrays({ x: Int32Array.of(1, 2, 3) }).batches[0];
    const { shared } = toShared([batch], arena);
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       Atomics.sub(new Int32Array(workerData, 0, 2), 1, 1); parentPort.postMessage('released');`,
      { eval: true, workerData: shared.slabs[0] },
    );
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    expect(refCount(shared.slabs[0])).toBe(0);
    toShared([batch], arena);
    expect(arena.stats.reuses).toBe(1);
  });
});
