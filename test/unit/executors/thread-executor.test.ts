import path from 'node:path';
import { OwnedBatch } from '../../../src/batch/owned';
import { threadId } from 'node:worker_threads';
import pino from 'pino';
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { ThreadExecutor } from '../../../src/executors/thread';
import { SlabArena, isSlab } from '../../../src/batch/slab';
import { buffersOf, fromShared, toShared } from '../../../src/batch/shared';
import type { PlannedStage } from '../../../src/plan/types';
import { allTypesBatch, expectBatchesEqual } from '../../helpers/arrow-types';

const STAGES = path.resolve(__dirname, '../../fixtures/stages');
const log = pino({ level: 'silent' });
const stage = (module: string, copies: number, options: Record<string, unknown> = {}): PlannedStage => ({
  name: 'probe',
  modulePath: path.join(STAGES, module),
  mode: 'thread',
  copies,
  options,
  output: { capacity: 4, capacityBytes: 1 << 28 },
});
const numbers = (n: number) => tableFromArrays({ x: Float64Array.from({ length: n }, (_, i) => i) }).batches[0];
const col = (b: RecordBatch, name: string) => b.getChild(name)!.get(0);

let executor: ThreadExecutor | undefined;
afterEach(async () => {
  await executor?.abort();
  executor = undefined;
});

describe('ThreadExecutor', () => {
  it('runs off the main thread on SharedArrayBuffer-backed batches, copying 0 bytes in the hand-off', async () => {
    executor = new ThreadExecutor(stage('probe.ts', 1), { log });
    await executor.start();
    const out = await executor.process(new OwnedBatch({ seq: 0, batches: [allTypesBatch(5)] }));
    const [facts] = out.batches;
    expect(col(facts, 'thread')).not.toBe(threadId);
    expect(col(facts, 'pid')).toBe(process.pid);
    expect(col(facts, 'shared')).toBe(true);
    expect(col(facts, 'setups')).toBe(1);
    expect(executor.stats().bytesCopied).toBe(0);
    expect(executor.stats().bytesPacked).toBeGreaterThan(0);
    // results come back in shared memory too
    expect(buffersOf(out.batches).every((b) => isSlab(b))).toBe(true);
    out.release();
  });

  it('returns every Arrow type intact through a real thread', async () => {
    executor = new ThreadExecutor(stage('probe.ts', 1, { echo: true }), { log });
    await executor.start();
    const input = allTypesBatch(9);
    const out = await executor.process(new OwnedBatch({ seq: 0, batches: [input] }));
    expectBatchesEqual(out.batches[0], input);
    out.release();
  });

  it('a pass-through result references the input slabs: nothing is packed again', async () => {
    const arena = new SlabArena();
    executor = new ThreadExecutor(stage('probe.ts', 1, { echo: true }), { log, arena });
    await executor.start();
    const first = await executor.process(new OwnedBatch({ seq: 0, batches: [numbers(1000)] }));
    const packedOnce = executor.stats().bytesPacked;
    const second = await executor.process(new OwnedBatch({ seq: 1, batches: first.batches }));
    expect(executor.stats().bytesPacked).toBe(packedOnce);
    // same memory, not a copy: a write through the first result shows through the second
    (first.batches[0].getChild('x')!.data[0].values as Float64Array)[0] = 42.5;
    expect(second.batches[0].getChild('x')!.get(0)).toBe(42.5);
    first.release();
    second.release();
  });

  it('a DataFrame a stage returns is converted straight into a slab: nothing is packed', async () => {
    const arena = new SlabArena();
    executor = new ThreadExecutor(stage('polars-double.ts', 1), { log, arena });
    await executor.start();
    const input = toShared([numbers(1000)], arena); // already shared: the hand-off packs nothing
    for (let i = 0; i < 3; i++) {
      const out = await executor.process(new OwnedBatch({ seq: i, batches: fromShared(input.shared) }));
      expect(out.batches[0].getChild('doubled')!.get(7)).toBe(14);
      expect(buffersOf(out.batches).every((b) => isSlab(b))).toBe(true);
      out.release();
    }
    expect(executor.stats().bytesPacked).toBe(0);
    input.lease.release();
  });

  it('recycles slabs: 100 batches allocate only a handful', async () => {
    const arena = new SlabArena();
    executor = new ThreadExecutor(stage('probe.ts', 1, { echo: true }), { log, arena });
    await executor.start();
    for (let i = 0; i < 100; i++) (await executor.process(new OwnedBatch({ seq: i, batches: [numbers(5000)] }))).release();
    expect(arena.stats.allocations).toBeLessThanOrEqual(2);
    expect(arena.stats.reuses).toBeGreaterThanOrEqual(98);
  });

  it('concurrency 2 runs two copies at once, in two threads; setup and flush once per copy', async () => {
    const rendezvous = new SharedArrayBuffer(4);
    executor = new ThreadExecutor(stage('probe.ts', 2, { rendezvous, copies: 2 }), { log });
    await executor.start();
    // Each call blocks until two calls are in flight: this only finishes if both copies run together.
    const outs = await Promise.all([executor.process(new OwnedBatch({ seq: 0, batches: [numbers(10)] })), executor.process(new OwnedBatch({ seq: 1, batches: [numbers(10)] }))]);
    const threads = new Set(outs.map((o) => col(o.batches[0], 'thread')));
    const copies = new Set(outs.map((o) => col(o.batches[0], 'copy')));
    expect(threads.size).toBe(2);
    expect(copies).toEqual(new Set([0, 1]));
    const flushed = await executor.flush();
    expect(flushed).toHaveLength(2);
    expect(new Set(flushed.map((f) => col(f.batches[0], 'copy')))).toEqual(new Set([0, 1]));
    expect(flushed.map((f) => col(f.batches[0], 'flushes'))).toEqual([1, 1]);
    expect(flushed.map((f) => col(f.batches[0], 'setups'))).toEqual([1, 1]);
  });
});

it('refuses options a thread cannot receive at start, naming their path (plans built without a config too)', async () => {
  executor = new ThreadExecutor(stage('probe.ts', 1, { hash: { fn: () => 1 } }), { log });
  await expect(executor.start()).rejects.toThrow(/stage "probe" failed in load\(\): options\.hash\.fn cannot be sent to a thread stage/);
});

describe('ThreadExecutor ownership (a counting arena)', () => {
  it('leaves no slab of the arena held after successes, a stage failure and an abort', async () => {
    const arena = new SlabArena();
    executor = new ThreadExecutor(stage('e2e-fail.ts', 2, { at: 3, how: 'throw' }), { log, arena });
    await executor.start();
    const outputs = [];
    for (let seq = 0; seq < 3; seq++) outputs.push(await executor.process(new OwnedBatch({ seq, batches: [numbers(2000)] })));
    // pass-through outputs still reference the input slabs: held until their consumer is done
    expect(arena.live).toBeGreaterThan(0);
    for (const out of outputs) out.release();
    expect(arena.live).toBe(0);
    // batch #3 reaches the failing call in one copy or the other: fail both copies' turn
    const settled = await Promise.allSettled([3, 4, 5, 6].map((seq) => executor!.process(new OwnedBatch({ seq, batches: [numbers(2000)] })).then((o) => o.release())));
    expect(settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason))).toEqual([expect.stringMatching(/deliberate failure/)]);
    expect(arena.live).toBe(0);
    // an abort while a task holds its input: the slabs come back once the threads are gone
    const inFlight = executor.process(new OwnedBatch({ seq: 7, batches: [numbers(2000)] })).catch(() => undefined);
    await executor.abort();
    await inFlight;
    expect(arena.live).toBe(0);
  });
});
