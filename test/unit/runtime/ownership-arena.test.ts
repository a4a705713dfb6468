/**
 * Ownership with real memory: a source whose batches live in slabs of a counting arena, a
 * thread stage of two copies (two producers, both also flushing) fanning into one sink, all
 * driven by the real scheduler. After success, a stage failure, a sink failure and an abort
 * with tasks in flight, no slab of either arena is held (SlabArena.live) — each owned batch
 * was released exactly once (strict leases make a second release throw).
 */
import path from 'node:path';
import pino from 'pino';
import { tableFromArrays } from 'apache-arrow';
import pl from 'nodejs-polars';
import { dataFrameToSlab } from '../../../src/batch/polars';
import { ParquetEncodeExecutor } from '../../../src/operators/parquet-encode';
import { buildPlan } from '../../../src/plan/build';
import { OwnedBatch } from '../../../src/batch/owned';
import { fromShared, toShared } from '../../../src/batch/shared';
import { SlabArena } from '../../../src/batch/slab';
import { ThreadExecutor } from '../../../src/executors/thread';
import { Channel } from '../../../src/runtime/channel';
import { Scheduler, type SchedulerSource } from '../../../src/runtime/scheduler';

const STAGES = path.resolve(__dirname, '../../fixtures/stages');
const log = pino({ level: 'silent' });
const BATCHES = 12;

function slabSource(arena: SlabArena, opts: { failAt?: number } = {}): SchedulerSource {
  let read = 0;
  return {
    async next() {
      if (read === opts.failAt) throw new Error('source failure');
      if (read >= BATCHES) return { done: true, value: undefined };
      const batch = tableFromArrays({ x: Float64Array.from({ length: 1000 }, (_, i) => read * 1000 + i) }).batches;
      const packed = toShared(batch, arena);
      read++;
      return { done: false, value: new OwnedBatch({ seq: -1, batches: fromShared(packed.shared), lease: packed.lease }) };
    },
    async close() {},
  };
}

function collectingSink(opts: { failAt?: number; hold?: Promise<void> } = {}) {
  const seen: number[] = [];
  const state = { writing: 0 };
  return {
    seen,
    state,
    write: (item: OwnedBatch) =>
      item.consume(async () => {
        state.writing++;
        if (item.seq === opts.failAt) throw new Error('sink failure');
        await opts.hold;
        seen.push(item.seq);
      }),
  };
}

async function run(how: { module: string; options?: Record<string, unknown>; sink?: ReturnType<typeof collectingSink>; sourceFailAt?: number; abortAfter?: number }) {
  const sourceArena = new SlabArena();
  const stageArena = new SlabArena();
  const executor = new ThreadExecutor(
    { name: 'fan', modulePath: path.join(STAGES, how.module), mode: 'thread', copies: 2, slotsPerCopy: 1, options: how.options ?? {}, output: { capacity: 4, capacityBytes: 1 << 28 } },
    { log, arena: stageArena },
  );
  await executor.start();
  const sink = how.sink ?? collectingSink();
  const channels = [0, 1].map((i) => new Channel(`c${i}`, { capacity: 4, capacityBytes: 1 << 28 }, true));
  const scheduler = new Scheduler(slabSource(sourceArena, { failAt: how.sourceFailAt }), [executor], sink, channels);
  const done = scheduler.run();
  if (how.abortAfter !== undefined) {
    // Wait until the copies have taken batches (the sink holds its first write meanwhile).
    while (scheduler.meters[0].batchesIn < how.abortAfter || sink.state.writing === 0) await new Promise((r) => setImmediate(r));
    scheduler.fail(new Error('aborted from outside'));
  }
  const outcome = await done.then(
    () => 'ok',
    (err: Error) => err.message,
  );
  await executor.abort();
  return { outcome, seen: sink.seen, live: () => [sourceArena.live, stageArena.live] };
}

afterAll(() => new Promise((r) => setImmediate(r)));

describe('no slab held after a run with two producers into one sink', () => {
  it('after success (every batch and both copies’ flush output written, in order)', async () => {
    const r = await run({ module: 'probe.ts', options: { echo: true } });
    expect(r.outcome).toBe('ok');
    expect(r.seen).toEqual(Array.from({ length: BATCHES + 2 }, (_, i) => i));
    expect(r.live()).toEqual([0, 0]);
  });

  it('after a stage failure', async () => {
    const r = await run({ module: 'e2e-fail.ts', options: { at: 3, how: 'throw' } });
    expect(r.outcome).toMatch(/deliberate failure/);
    expect(r.live()).toEqual([0, 0]);
  });

  it('after a sink failure', async () => {
    const r = await run({ module: 'probe.ts', options: { echo: true }, sink: collectingSink({ failAt: 4 }) });
    expect(r.outcome).toBe('sink failure');
    expect(r.live()).toEqual([0, 0]);
  });

  it('after a source failure', async () => {
    const r = await run({ module: 'probe.ts', options: { echo: true }, sourceFailAt: 5 });
    expect(r.outcome).toBe('source failure');
    expect(r.live()).toEqual([0, 0]);
  });

  it('after an abort from outside while the sink and both copies hold batches', async () => {
    let open!: () => void;
    const hold = new Promise<void>((resolve) => (open = resolve));
    const sink = collectingSink({ hold });
    const r = await run({ module: 'probe.ts', options: { echo: true }, sink, abortAfter: 3 });
    expect(r.outcome).toBe('aborted from outside');
    expect(r.live()[0]).toBeGreaterThan(0); // the sink still writes its batch: it holds it
    open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.live()).toEqual([0, 0]);
  });
});

/**
 * The same with the Parquet encoding stage sluice adds before a Parquet sink: batches polars
 * wrote into slabs (read in place by the encoder threads, the slab held by a slot until read)
 * and batches copied into its slots, one part per row group out. After success, a batch it
 * refuses, and an abort with groups in flight, no slab is held.
 */
describe('no slab held after the Parquet encoding stage ran', () => {
  async function encodeRun(how: { abortAfter?: number; badAt?: number } = {}) {
    const arena = new SlabArena();
    let read = 0;
    const source: SchedulerSource = {
      async next() {
        if (read >= BATCHES) return { done: true, value: undefined };
        const i = read++;
        if (i === how.badAt) {
          // Other columns than the batches before it: refused (one Parquet schema per file).
          const bad = tableFromArrays({ y: ['a', 'b'] }).batches;
          const packed = toShared(bad, arena);
          return { done: false, value: new OwnedBatch({ seq: -1, batches: fromShared(packed.shared), lease: packed.lease }) };
        }
        // Half born in a slab by polars (a backing: read in place), half packed (copied into a slot).
        if (i % 2 === 0) {
          const born = dataFrameToSlab(pl.DataFrame({ x: Array.from({ length: 1000 }, (_, k) => i * 1000 + k) }), arena);
          return { done: false, value: new OwnedBatch({ seq: -1, batches: born.batches, lease: born.lease, backing: born.backing }) };
        }
        const packed = toShared(tableFromArrays({ x: Float64Array.from({ length: 1000 }, (_, k) => i * 1000 + k) }).batches, arena);
        return { done: false, value: new OwnedBatch({ seq: -1, batches: fromShared(packed.shared), lease: packed.lease }) };
      },
      async close() {},
    };
    const stage = buildPlan({ name: 'enc', source: { format: 'csv', path: 'x.csv' }, stages: [], sink: { format: 'parquet', path: '/tmp/x.parquet', rowGroupSize: 2500 } }, { file: '', baseDir: '/tmp' }).stages[0];
    // Through batches (the plain-conversion shape reads CSV chunks instead).
    const executor = new ParquetEncodeExecutor({ ...stage, encode: { ...stage.encode!, input: 'batches' } }, { log });
    await executor.start();
    const parts: number[] = [];
    const sink = { write: (item: OwnedBatch) => item.consume(async () => void parts.push(item.rows)) };
    const channels = [0, 1].map((i) => new Channel(`c${i}`, { capacity: 4, capacityBytes: 1 << 28 }, true));
    const scheduler = new Scheduler(source, [executor], sink, channels);
    const done = scheduler.run();
    if (how.abortAfter !== undefined) {
      while (scheduler.meters[0].batchesIn < how.abortAfter) await new Promise((r) => setImmediate(r));
      scheduler.fail(new Error('aborted from outside'));
    }
    const outcome = await done.then(
      () => 'ok',
      (err: Error) => err.message,
    );
    await (outcome === 'ok' ? executor.close() : executor.abort());
    return { outcome, parts, live: () => arena.live };
  }

  it('after success (row groups of 2 500 rows, the last shorter)', async () => {
    const r = await encodeRun();
    expect(r.outcome).toBe('ok');
    expect(r.parts.filter((n) => n > 0)).toEqual([2500, 2500, 2500, 2500, 2000]);
    expect(r.live()).toBe(0);
  });

  it('after a batch it refuses (another schema than the first) while groups are in flight', async () => {
    const r = await encodeRun({ badAt: 4 });
    expect(r.outcome).toMatch(/differs from the first batch's .*must have the same schema/);
    expect(r.live()).toBe(0);
  });

  it('after an abort from outside with groups in flight', async () => {
    const r = await encodeRun({ abortAfter: 3 });
    expect(r.outcome).toBe('aborted from outside');
    expect(r.live()).toBe(0);
  });
});
