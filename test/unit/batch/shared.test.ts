import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Table, tableFromArrays, tableFromIPC, tableToIPC, type RecordBatch } from 'apache-arrow';
import pl from 'nodejs-polars';
import { batchToDataFrame, dataFrameToSlab } from '../../../src/batch/polars';
import { SlabArena, isSlab, refCount } from '../../../src/batch/slab';
import { backingOf, buffersOf, fromShared, toShared } from '../../../src/batch/shared';
import { openSource } from '../../../src/io/sources';
import { ALL_NULL_KINDS, allNullNestedBatch } from '../../helpers/all-null-nested';
import { allTypesBatch, expectBatchesEqual } from '../../helpers/arrow-types';
import { UNITS_DIR } from '../../helpers/parquet-units';

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

describe('nested columns null in every row (a list null for a whole Parquet row group crashed the sinks after a thread stage)', () => {
  // Their empty child buffers were sent as missing ones: apache-arrow's writer then failed
  // ("reading 'subarray'"), and a Utf8View dictionary of no values lost its views buffer.
  const original = allNullNestedBatch();
  const parquet = async () => {
    const source = await openSource({ format: 'parquet', path: path.join(UNITS_DIR, 'pa-nested-all-null.parquet'), batchRows: 2 });
    const batches: RecordBatch[] = [];
    for await (const owned of source.batches()) batches.push(...owned.batches);
    return batches[0]; // the row group null in every nested column, as polars made it
  };

  it.each(ALL_NULL_KINDS)('%s: rebuilt from shared memory, it is written as Arrow IPC and read by polars, all null', (kind) => {
    const batch = new Table({ [kind]: original.getChild(kind)! }).batches[0];
    const { shared, lease } = toShared([batch], new SlabArena());
    const [back] = fromShared(shared);
    const bytes = tableToIPC(new Table([back]), 'stream');
    expect([...tableFromIPC(bytes).getChild(kind)!]).toEqual([null, null, null]);
    expect(batchToDataFrame(back).getColumn(kind).nullCount()).toBe(3);
    lease.release();
  });

  it('as polars reads them from Parquet (every kind), rebuilt from shared memory, all null', async () => {
    const batch = await parquet();
    const nested = batch.schema.fields.filter((f) => f.name !== 'id');
    expect(nested.length).toBeGreaterThanOrEqual(7);
    const [back] = fromShared(toShared([batch], new SlabArena()).shared);
    const read = tableFromIPC(tableToIPC(new Table([back]), 'stream'));
    for (const f of nested) expect({ column: f.name, values: [...read.getChild(f.name)!] }).toEqual({ column: f.name, values: [null, null] });
    expect(batchToDataFrame(back).height).toBe(2);
  });
});
