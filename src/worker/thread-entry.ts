/**
 * Inside a worker thread of a `thread` stage (loaded by piscina). Thin: it adapts the
 * piscina task protocol to the stages this copy runs (a StageChain: one stage, or adjacent
 * stages fused into one worker), which do not know their transport.
 */
import '../arrow-bundle'; // first: every apache-arrow of this thread is the one bundled file
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { backingOf, buffersOf, fromShared, toShared } from '../batch/shared';
import { cutForReader } from '../batch/key-split';
import { SlabArena, isShared } from '../batch/slab';
import { FrameReclaimer } from '../batch/reclaim';
import { SourceError, serializeError } from '../errors';
import { createForwardingLogger } from '../log/forwarding';
import type { ThreadLogEvent, ThreadResult, ThreadTask, ThreadWorkerData } from '../protocol/thread';
import { asStageError } from './host';
import { StageChain } from './chain';
import { parseIfChunk, type ParsedInput } from './parse-input';
import { freshInstance } from './fresh';

const data = workerData as ThreadWorkerData;
const copy = data.copy;
const arena = new SlabArena();
const log = createForwardingLogger(data.logLevel, (line) => parentPort?.postMessage({ type: 'sluice:log', line } satisfies ThreadLogEvent), { worker: copy });
let chain: Promise<StageChain> | undefined;
/**
 * Frees the polars frames parsing leaves behind (batch/reclaim.ts). A full collection here also
 * walks the stage's own heap, so it waits for 256 MiB of growth rather than the 64 MiB of a
 * stage's own conversions: the obvious bench stage ran 0.93x the wall time with it (1 M rows,
 * 6 interleaved pairs) at the same peak memory; with no collection at all, 3 M rows peaked
 * 100 MB higher.
 */
const parseReclaimer = new FrameReclaimer({ growthBytes: 256 * 1024 * 1024 });

let leftOutTold = false;

/** `fresh`: a new instance of each member's module (renew), not the one this thread's require cache holds. */
function loadChain(fresh = false): Promise<StageChain> {
  const members = data.members ?? [{ stage: data.stage, modulePath: data.modulePath, options: data.options }];
  const running = data.runningMember && new Int32Array(data.runningMember);
  chain ??= StageChain.load(members, { params: data.params, copy, copies: data.copies, mode: 'thread', log, ...(fresh && { load: freshInstance }) }, running && ((m) => Atomics.store(running, 0, m)));
  return chain;
}

/** The module's state starts again: a fresh instance, set up, in this same thread; the columns left out are told again with the next task. */
async function renew(): Promise<ThreadResult> {
  chain = undefined;
  leftOutTold = false;
  await (await loadChain(true)).setup();
  return { type: 'ok', copy, packedBytes: 0, copiedBytes: 0 };
}

function failure(err: unknown, phase: 'setup' | 'process' | 'flush', task?: { seq: number; sourceFile?: string }): ThreadResult {
  return { type: 'failed', error: serializeError(asStageError(err, { stage: data.stage, copy, seq: task?.seq, sourceFile: task?.sourceFile }, phase)) };
}

async function processBatch(task: Extract<ThreadTask, { type: 'process' }>): Promise<ThreadResult> {
  const stages = await loadChain();
  if (task.leftOut && !leftOutTold) {
    stages.leaveOut(task.leftOut); // the same on every task of the run
    leftOutTold = true;
  }
  const input = fromShared(task.input);
  let copiedBytes = 0;
  for (const b of buffersOf(input)) if (!isShared(b)) copiedBytes += b.byteLength;
  // A chunk of CSV text (fusion): parsed here first. A bad value is the source's error, as it is.
  let parsed: ParsedInput | undefined;
  try {
    parsed = parseIfChunk(input, arena);
  } catch (err) {
    if (err instanceof SourceError) return { type: 'failed', error: serializeError(err) };
    throw err;
  }
  try {
    const output = await stages.process(parsed?.input ?? { batches: input, backing: backingOf(task.input) }, task.from ?? 0, task.seq, task.sourceFile);
    // Read by a keyed stage: cut here, into the parts its copies get, so main only routes them.
    let cut: ReturnType<typeof cutForReader> | undefined;
    try {
      cut = data.splitOut && cutForReader(output, data.splitOut, { seq: task.seq, sourceFile: task.sourceFile, threadId });
    } catch (err) {
      output.born.release();
      return { type: 'failed', error: serializeError(err) };
    }
    // Main adopts the descriptor (retains the input slabs it borrows, holds the rest) and
    // releases it when the batches are consumed; nothing here is left to release.
    const packed = toShared(cut?.batches ?? output.batches, arena, { borrow: new Set(task.input.slabs), backing: cut ? cut.backing : output.backing });
    output.born.release();
    return { type: 'ok', copy, output: packed.shared, packedBytes: packed.packedBytes, copiedBytes, ...(parsed && { parsedRows: parsed.rows, threadId }), ...(cut && { split: cut.split }), ...(output.rejected && { rejected: output.rejected }) };
  } finally {
    // What the output passes on of the parsed batch, packing retained; the parse's frame is left to collect.
    parsed?.lease.release();
    if (parsed) await parseReclaimer.afterTask();
  }
}

async function setupOrFlush(task: Extract<ThreadTask, { type: 'setup' | 'flush' }>): Promise<ThreadResult> {
  const stages = await loadChain();
  if (task.type === 'setup') {
    await stages.setup();
    return { type: 'ok', copy, packedBytes: 0, copiedBytes: 0 };
  }
  const flushed = await stages.flush(task.member ?? 0, task.pipe ?? true);
  const packed = toShared(flushed.batches, arena, { backing: flushed.backing });
  flushed.born.release();
  return { type: 'ok', copy, output: packed.shared, packedBytes: packed.packedBytes, copiedBytes: 0 };
}

export default async function handle(task: ThreadTask): Promise<ThreadResult> {
  try {
    return task.type === 'process' ? await processBatch(task) : task.type === 'renew' ? await renew() : await setupOrFlush(task);
  } catch (err) {
    return failure(err, task.type === 'renew' ? 'setup' : task.type, task.type === 'process' ? task : undefined);
  }
}
