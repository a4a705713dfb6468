/** Hand-off cost: a batch to a thread / process stage and back, vs piscina structured clone. */
import path from 'node:path';
import { OwnedBatch } from '../src/batch/owned';
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { Piscina } from 'piscina';
import { fromShared, toShared } from '../src/batch/shared';
import { SlabArena } from '../src/batch/slab';
import { ProcessExecutor } from '../src/executors/process';
import { ThreadExecutor } from '../src/executors/thread';
import type { PlannedStage } from '../src/plan/types';
import { fmt, silent, target, timeIt } from './lib';

const stage = (mode: 'thread' | 'process'): PlannedStage => ({
  name: 'pass',
  modulePath: path.join(__dirname, 'stages/pass.ts'),
  mode,
  copies: 1,
  options: {},
  output: { capacity: 4, capacityBytes: 1 << 30 },
});

export interface HandoffRow {
  bytes: number;
  threadUs: number;
  processUs: number;
  cloneUs: number;
  threadBytesCopied: number;
}

export async function handoff(quick: boolean, runs: number): Promise<HandoffRow[]> {
  const sizes = (quick ? [1, 16, 256, 4096] : [1, 16, 256, 4096, 65536, 262144]).map((k) => k * 1024);
  const arena = new SlabArena();
  const thread = new ThreadExecutor(stage('thread'), { log: silent, arena });
  const proc = new ProcessExecutor(stage('process'), { log: silent });
  const clone = new Piscina({ filename: path.join(__dirname, 'clone-worker.js'), minThreads: 1, maxThreads: 1, idleTimeout: Infinity });
  await Promise.all([thread.start(), proc.start()]);
  const rows: HandoffRow[] = [];
  try {
    for (const bytes of sizes) {
      const plain = tableFromArrays({ x: new Float64Array(bytes / 8).fill(1.5) }).batches[0];
      // The thread hand-off is measured on a batch already in shared memory (as stage outputs are).
      const packed = toShared([plain], arena);
      const shared: RecordBatch[] = fromShared(packed.shared);
      // Small hand-offs are timed over many calls after a JIT warm-up; big ones over a few.
      const big = bytes >= 64 << 20;
      const n = big ? Math.max(3, runs) : 40 * runs;
      const copiedBefore = thread.stats().bytesCopied;
      const threadMs = await timeIt(async () => (await thread.process(new OwnedBatch({ seq: 0, batches: shared }))).release(), n, big ? 2 : 200);
      // Pipelined like the scheduler drives it: up to `slots` frames in flight; time per batch.
      const k = big ? 4 : n;
      // Each result is released as soon as it arrives, as the scheduler does once it is consumed,
      // so the executor's receive slabs are recycled (warm) rather than allocated per batch.
      const processMs = (await timeIt(() => windowed(k, proc.slots, async () => (await proc.process(new OwnedBatch({ seq: 0, batches: [plain] }))).release()), 1, 1)) / k;
      const buffer = (plain.getChild('x')!.data[0].values as Float64Array).buffer;
      const cloneMs = await timeIt(() => clone.run(buffer), big ? 3 : n, big ? 1 : 50);
      packed.lease.release();
      const row = { bytes, threadUs: threadMs * 1000, processUs: processMs * 1000, cloneUs: cloneMs * 1000, threadBytesCopied: thread.stats().bytesCopied - copiedBefore };
      rows.push(row);
      console.log(`  ${label(bytes).padStart(8)}  thread ${fmt(row.threadUs).padStart(8)} µs  process ${fmt(row.processUs).padStart(9)} µs (${fmt(gbps(bytes, row.processUs))} GB/s)  clone ${fmt(row.cloneUs).padStart(9)} µs  thread copied ${row.threadBytesCopied} B`);
    }
  } finally {
    await Promise.all([thread.close(), proc.close(), clone.destroy()]);
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  target('thread hand-off copies 0 bytes', rows.every((r) => r.threadBytesCopied === 0), `${rows.reduce((n, r) => n + r.threadBytesCopied, 0)} bytes copied over all sizes`);
  const ratio = last.threadUs / first.threadUs;
  target(`thread hand-off of ${label(last.bytes)} ≤ 1.5× the 1 KiB hand-off`, ratio <= 1.5, `${fmt(ratio)}× (${fmt(first.threadUs)} µs vs ${fmt(last.threadUs)} µs)`);
  const big = rows.filter((r) => r.bytes >= 1 << 20);
  const worst = Math.min(...big.map((r) => gbps(r.bytes, r.processUs)));
  target('process transport ≥ 1 GB/s for batches ≥ 1 MiB (round trip: bytes each way / time)', worst >= 1, `slowest ${fmt(worst)} GB/s`);
  return rows;
}

async function windowed(total: number, window: number, task: () => Promise<unknown>): Promise<void> {
  let started = 0;
  const lane = async () => {
    while (started < total) {
      started++;
      await task();
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
}

/** Round trip moves the batch there and back: 2 × bytes. */
export const gbps = (bytes: number, us: number) => (2 * bytes) / (us * 1000);
export const label = (b: number) => (b >= 1 << 20 ? `${b >> 20} MiB` : `${b >> 10} KiB`);
