/**
 * Entry of one child process of a `process` stage. Thin: it adapts the frame protocol
 * (protocol/process.ts) to the StageHost, which does not know its transport.
 *
 * Two threads: this one runs the stage; an I/O thread (process-io.ts) owns the channel,
 * so transfer overlaps compute even for a synchronous stage. Work runs strictly in
 * arrival order, one message at a time.
 *
 * Memory: an input arrives in a recycled slab and is reused once its result frame is
 * written (the result may view the input). Like an input in thread mode, a batch is the
 * stage's only until process() returns — a stage that keeps one must copy it. Output
 * buffers outside shared memory are packed into a recycled slab of this thread (one warm
 * copy) so the I/O thread can write them; shared ones (a pass-through) go by reference.
 *
 * Logs are pino JSON lines on stderr; main re-emits them. Anything else on stderr (a
 * crash's stack trace) is kept by main for the error message.
 */
import '../arrow-bundle'; // first: every apache-arrow of this process is the one bundled file
import { writeSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { encodeFrame } from '../batch/framing';
import { decodeBatches, encodeBatches } from '../batch/ipc';
import { cutForReader } from '../batch/key-split';
import { isShared, isSlab, release, SLAB_HEADER, SlabArena } from '../batch/slab';
import { serializeError, type BatchLocation } from '../errors';
import { loaderExecArgv } from '../loader';
import { createForwardingLogger } from '../log/forwarding';
import {
  RUNNING_TASK,
  decodeMainMessage,
  encodeHeader,
  type ChildToMain,
  type IoToStage,
  type MainToChild,
  type SharedBytes,
  type StageToIo,
} from '../protocol/process';
import type { SplitOut } from '../protocol/key-split';
import { StageHost, asStageError, type HostOptions } from './host';
import { freshInstance } from './fresh';

const EMPTY = new Uint8Array(0);
const arena = new SlabArena();
// The I/O thread runs only sluice's code: it needs the TS loader only when that is TypeScript.
const io = new Worker(path.join(__dirname, 'process-io.cjs'), { execArgv: loaderExecArgv() });
const toIo = (message: StageToIo) => io.postMessage(message);
const written = new Map<number, () => void>();
let nextSend = 1;
let exitCode = 0;
let host: StageHost | undefined;
/** What `init` loaded the stage with: a renew loads a fresh instance with the same. */
let hostOptions: HostOptions | undefined;
/** Stage name and copy index, from `init` (for errors outside the stage's own code). */
let self: { stage: string; copy: number } = { stage: '?', copy: -1 };
/** Set when a keyed stage reads this one: each task's output is cut by its key here (plan/key-split.ts). */
let splitOut: SplitOut | undefined;
let queue: Promise<void> = Promise.resolve();
let leftOutTold = false;

function releasePayload(payload: Uint8Array): void {
  if (isSlab(payload.buffer)) release(payload.buffer);
}

/** Hand a frame to the I/O thread; `onWritten` once the kernel has all of it. */
function send(message: ChildToMain, payload: readonly Uint8Array[] = [], onWritten?: () => void): void {
  const chunks = encodeFrame(encodeHeader(message), payload);
  let packBytes = 0;
  for (const c of chunks) if (!isShared(c.buffer)) packBytes += align8(c.byteLength);
  const slab = packBytes ? arena.acquire(packBytes) : undefined;
  let at = SLAB_HEADER;
  const refs = chunks.map((c): SharedBytes => {
    if (isShared(c.buffer)) return { buffer: c.buffer, byteOffset: c.byteOffset, byteLength: c.byteLength };
    new Uint8Array(slab!, at, c.byteLength).set(c);
    const ref = { buffer: slab!, byteOffset: at, byteLength: c.byteLength };
    at += align8(c.byteLength);
    return ref;
  });
  const id = nextSend++;
  written.set(id, () => {
    if (slab) release(slab);
    onWritten?.();
  });
  toIo({ type: 'send', id, chunks: refs });
}

/** `json` followed by spaces to a multiple of 8 bytes (JSON.parse ignores them). */
function pad8(json: string): string {
  const bytes = Buffer.byteLength(json);
  return json + ' '.repeat(align8(bytes) - bytes);
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** This process's peak resident memory so far (getrusage; a few µs), reported with each result. */
function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** `where`: the batch, for a failure outside the stage's own code (the host names it otherwise). */
function sendFailure(id: number | undefined, phase: 'load' | 'process' | 'flush', err: unknown, where: Partial<BatchLocation> = {}, onWritten?: () => void): void {
  const error = asStageError(err, { ...self, ...where }, phase);
  send({ type: 'failed', id, error: serializeError(error) }, [], onWritten);
}

async function init(message: Extract<MainToChild, { type: 'init' }>, payload: Uint8Array): Promise<void> {
  const options = payload.byteLength ? (v8.deserialize(payload) as Record<string, unknown>) : {};
  releasePayload(payload);
  self = { stage: message.stage, copy: message.copy };
  splitOut = message.splitOut;
  const log = createForwardingLogger(message.logLevel, (line) => process.stderr.write(line), {});
  try {
    hostOptions = {
      stage: message.stage,
      modulePath: message.modulePath,
      options,
      params: message.params,
      copy: message.copy,
      copies: message.copies,
      mode: 'process',
      log,
    };
    host = await StageHost.load(hostOptions);
    await host.setup();
  } catch (err) {
    sendFailure(undefined, 'load', err);
    exitCode = 1;
    toIo({ type: 'finish' });
    return;
  }
  send({ type: 'ready', pid: process.pid });
}

/** A cell to sleep on (Atomics.wait) while stderr is full: a blocking wait that does not spin. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Tell the parent which task starts, synchronously on stderr, so it is out before the task's
 * code can end the process (process.exit). The pipe is non-blocking here and a stage that
 * logs a lot fills it: a plain writeSync then threw EAGAIN and failed the copy. The parent
 * always drains stderr, so wait for room. The leading newline keeps the marker on a line of
 * its own after a stage's unterminated output.
 */
function sayRunning(id: number): void {
  let text = Buffer.from(`\n${RUNNING_TASK}${id}\n`);
  while (text.length > 0) {
    try {
      text = text.subarray(writeSync(2, text));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(PAUSE, 0, 0, 1);
    }
  }
}

async function runTask(id: number, payload: Uint8Array, seq: number, sourceFile: string | undefined): Promise<void> {
  const done = () => releasePayload(payload);
  sayRunning(id);
  try {
    // The frame's bytes are the batch as an IPC stream: ctx.toDataFrame reads them in place.
    const backing = isSlab(payload.buffer) ? ({ format: 'ipc-stream', slab: payload.buffer, offset: payload.byteOffset, length: payload.byteLength } as const) : undefined;
    const output = await host!.process({ batches: decodeBatches(payload), backing }, seq, sourceFile);
    // Read by a keyed stage: cut here, before framing, into the parts its copies get (each part a
    // record batch of the stream); main only routes them.
    let cut: ReturnType<typeof cutForReader> | undefined;
    try {
      cut = splitOut && cutForReader(output, splitOut, { seq, sourceFile, pid: process.pid });
    } catch (err) {
      output.born.release();
      throw err;
    }
    // Output in slabs goes to the I/O thread by reference: held until the frame is written.
    // Padded with spaces to 8 bytes, so the Arrow IPC after it keeps its alignment.
    const rejected = output.rejected && new TextEncoder().encode(pad8(JSON.stringify(output.rejected)));
    const chunks = encodeBatches(cut?.batches ?? output.batches).chunks;
    send({ type: 'result', id, maxRss: peakRss(), ...(cut && { split: cut.split }), ...(rejected && { rejectedBytes: rejected.byteLength }) }, rejected ? [rejected, ...chunks] : chunks, () => {
      done();
      output.born.release();
    });
  } catch (err) {
    sendFailure(id, 'process', err, { seq, sourceFile }, done);
  }
}

async function runFlush(id: number): Promise<void> {
  try {
    const flushed = await host!.flush();
    send({ type: 'result', id, maxRss: peakRss() }, encodeBatches(flushed.batches).chunks, () => flushed.born.release());
  } catch (err) {
    sendFailure(id, 'flush', err);
  }
}

/** A fresh instance of the module, set up, in place of the one running (its state starts again); the columns left out are told again with the next task. */
async function runRenew(id: number): Promise<void> {
  try {
    host = await StageHost.load({ ...hostOptions!, load: freshInstance });
    leftOutTold = false;
    await host.setup();
    send({ type: 'result', id, maxRss: peakRss() }, encodeBatches([]).chunks);
  } catch (err) {
    sendFailure(id, 'load', err);
  }
}

function onMessage(message: MainToChild, payload: Uint8Array): void {
  switch (message.type) {
    case 'init':
      queue = queue.then(() => init(message, payload));
      return;
    case 'task':
      if (message.leftOut && !leftOutTold) {
        host?.leaveOut(message.leftOut); // the same on every task of the run
        leftOutTold = true;
      }
      queue = queue.then(() => runTask(message.id, payload, message.seq, message.sourceFile));
      return;
    case 'flush':
      releasePayload(payload);
      queue = queue.then(() => runFlush(message.id));
      return;
    case 'renew':
      releasePayload(payload);
      queue = queue.then(() => runRenew(message.id));
      return;
    case 'close':
      releasePayload(payload);
      // Exit once everything queued is done and written (the I/O thread ends the channel).
      queue = queue.then(() => toIo({ type: 'finish' }));
      return;
  }
}

io.on('message', (message: IoToStage) => {
  switch (message.type) {
    case 'frame': {
      const p = message.payload;
      onMessage(decodeMainMessage(message.header), p ? new Uint8Array(p.buffer, p.byteOffset, p.byteLength) : EMPTY);
      return;
    }
    case 'written':
      written.get(message.id)?.();
      written.delete(message.id);
      return;
    case 'closed':
      // Main closed the channel, or went away: nothing is left to do for anyone.
      exitAfterOutput(exitCode);
  }
});
// The I/O thread failed (a corrupt stream): die loudly, main reports the stack from stderr.
io.on('error', (err) => {
  throw err;
});
io.on('exit', (code) => exitAfterOutput(code || 1));

/**
 * process.exit() drops what stdout/stderr still queue: with main reading slowly, a stage that
 * logged 100 000 lines in its last batch delivered 4 000 of them. An empty write's callback
 * runs once everything written before it is out, so exit then.
 */
function exitAfterOutput(code: number): void {
  let waiting = 2;
  const done = () => --waiting === 0 && process.exit(code);
  process.stdout.write('', done);
  process.stderr.write('', done);
}
