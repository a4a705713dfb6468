/**
 * Inside a worker thread of a `thread` stage (loaded by piscina). Thin: it adapts the
 * piscina task protocol to the StageHost, which does not know its transport.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { backingOf, buffersOf, fromShared, toShared } from '../batch/shared';
import { SlabArena, isShared } from '../batch/slab';
import { StageError, serializeError } from '../errors';
import { createForwardingLogger } from '../log';
import type { ThreadLogEvent, ThreadResult, ThreadTask, ThreadWorkerData } from '../protocol/thread';
import { StageHost } from './host';

const data = workerData as ThreadWorkerData;
const copy = Atomics.add(new Int32Array(data.copyCounter), 0, 1);
const arena = new SlabArena();
const log = createForwardingLogger(data.logLevel, (line) => parentPort?.postMessage({ type: 'sluice:log', line } satisfies ThreadLogEvent), { worker: copy });
let host: Promise<StageHost> | undefined;

function loadHost(): Promise<StageHost> {
  host ??= StageHost.load({ stage: data.stage, modulePath: data.modulePath, options: data.options, copy, copies: data.copies, mode: 'thread', log });
  return host;
}

function failure(err: unknown): ThreadResult {
  if (err instanceof StageError) return { type: 'error', copy, phase: err.phase, cause: serializeError(err.cause) };
  return { type: 'error', copy, phase: 'process', cause: serializeError(err) };
}

async function processBatch(task: Extract<ThreadTask, { type: 'process' }>): Promise<ThreadResult> {
  const stage = await loadHost();
  const input = fromShared(task.input);
  let copiedBytes = 0;
  for (const b of buffersOf(input)) if (!isShared(b)) copiedBytes += b.byteLength;
  const output = await stage.process({ batches: input, backing: backingOf(task.input) }, task.seq, task.sourceFile);
  // Main adopts the descriptor (retains the input slabs it borrows, holds the rest) and
  // releases it when the batches are consumed; nothing here is left to release.
  const packed = toShared(output.batches, arena, { borrow: new Set(task.input.slabs), backing: output.backing });
  output.born.release();
  return { type: 'ok', copy, output: packed.shared, packedBytes: packed.packedBytes, copiedBytes };
}

async function everyCopy(task: Extract<ThreadTask, { type: 'setup' | 'flush' }>): Promise<ThreadResult> {
  let result: ThreadResult;
  try {
    const stage = await loadHost();
    if (task.type === 'setup') {
      await stage.setup();
      result = { type: 'ok', copy, packedBytes: 0, copiedBytes: 0 };
    } else {
      const flushed = await stage.flush();
      const packed = toShared(flushed.batches, arena, { backing: flushed.backing });
      flushed.born.release();
      result = { type: 'ok', copy, output: packed.shared, packedBytes: packed.packedBytes, copiedBytes: 0 };
    }
  } catch (err) {
    result = failure(err);
  }
  // Hold this thread until every copy has taken its task (see ThreadTask).
  const cell = new Int32Array(task.barrier);
  Atomics.add(cell, 0, 1);
  Atomics.notify(cell, 0);
  const deadline = Date.now() + task.timeoutMs;
  for (let arrived = Atomics.load(cell, 0); arrived < task.copies; arrived = Atomics.load(cell, 0)) {
    const left = deadline - Date.now();
    if (left <= 0) return { type: 'error', copy, phase: task.type, cause: { name: 'Error', message: `only ${arrived} of ${task.copies} copies reached ${task.type} within ${task.timeoutMs} ms` } };
    Atomics.wait(cell, 0, arrived, Math.min(left, 1000));
  }
  return result;
}

export default async function handle(task: ThreadTask): Promise<ThreadResult> {
  try {
    return task.type === 'process' ? await processBatch(task) : await everyCopy(task);
  } catch (err) {
    return failure(err);
  }
}
