/**
 * Entry of one child process of a `process` stage. Thin: it adapts the frame protocol
 * on fd 3 (protocol/process.ts) to the StageHost, which does not know its transport.
 *
 * Work runs strictly in arrival order, one message at a time, while the socket keeps
 * reading, so the next task's bytes arrive while this one computes (pipelining).
 * Input payloads are read by the kernel straight into recycled slabs (`onread`): no
 * userland copy, no fresh memory per batch. A task's slab is reused once its result
 * frame is written (the result may view the input): like an input in thread mode, a
 * batch is the stage's only until process() returns — a stage that keeps one must copy.
 * Logs are pino JSON lines on stderr; main re-emits them. Anything else on stderr
 * (a crash's stack trace) is kept by main for the error message.
 */
import net from 'node:net';
import v8 from 'node:v8';
import { encodeFrame, FrameDecoder } from '../batch/framing';
import { decodeBatches, encodeBatches } from '../batch/ipc';
import { isSlab, release, SLAB_HEADER, SlabArena } from '../batch/slab';
import { StageError, serializeError } from '../errors';
import { createForwardingLogger } from '../log';
import {
  DATA_FD,
  decodeMainMessage,
  encodeHeader,
  type ChildToMain,
  type MainToChild,
  type ProcessPhase,
} from '../protocol/process';
import { StageHost } from './host';

const arena = new SlabArena();
let host: StageHost | undefined;
let queue: Promise<void> = Promise.resolve();

const frames = new FrameDecoder((frame) => onMessage(decodeMainMessage(frame.header), frame.payload), {
  allocate: (bytes) => new Uint8Array(arena.acquire(bytes), SLAB_HEADER, bytes),
});
// `onread` is accepted by the constructor since Node 12 (the typings only list it for connect()).
const channel = new net.Socket({
  fd: DATA_FD,
  readable: true,
  writable: true,
  onread: { buffer: () => frames.readTarget(), callback: (n: number) => (frames.commitRead(n), true) },
} as net.SocketConstructorOpts & net.ConnectOpts);

function releasePayload(payload: Uint8Array): void {
  if (isSlab(payload.buffer)) release(payload.buffer);
}

/** One writev for header and every body buffer; `onWritten` once the kernel has them all. */
function send(message: ChildToMain, payload: Uint8Array[] = [], onWritten?: () => void): void {
  const chunks = encodeFrame(encodeHeader(message), payload);
  channel.cork();
  chunks.forEach((chunk, i) => channel.write(chunk, i === chunks.length - 1 ? onWritten : undefined));
  channel.uncork();
}

function sendFailure(id: number | undefined, fallback: ProcessPhase, err: unknown, onWritten?: () => void): void {
  const phase = err instanceof StageError ? err.phase : fallback;
  const cause = err instanceof StageError && err.cause !== undefined ? err.cause : err;
  send({ type: 'failed', id, phase, error: serializeError(cause) }, [], onWritten);
}

async function init(message: Extract<MainToChild, { type: 'init' }>, payload: Uint8Array): Promise<void> {
  const options = payload.byteLength ? (v8.deserialize(payload) as Record<string, unknown>) : {};
  releasePayload(payload);
  const log = createForwardingLogger(message.logLevel, (line) => process.stderr.write(line), {});
  try {
    host = await StageHost.load({
      stage: message.stage,
      modulePath: message.modulePath,
      options,
      copy: message.copy,
      copies: message.copies,
      mode: 'process',
      log,
    });
    await host.setup();
  } catch (err) {
    sendFailure(undefined, 'load', err);
    channel.end(() => process.exit(1));
    return;
  }
  send({ type: 'ready', pid: process.pid });
}

async function runTask(id: number, payload: Uint8Array, seq: number, sourceFile: string | undefined): Promise<void> {
  const done = () => releasePayload(payload);
  try {
    const output = await host!.process(decodeBatches(payload), seq, sourceFile);
    send({ type: 'result', id }, encodeBatches(output).chunks, done);
  } catch (err) {
    sendFailure(id, 'process', err, done);
  }
}

async function runFlush(id: number): Promise<void> {
  try {
    send({ type: 'result', id }, encodeBatches(await host!.flush()).chunks);
  } catch (err) {
    sendFailure(id, 'flush', err);
  }
}

function onMessage(message: MainToChild, payload: Uint8Array): void {
  switch (message.type) {
    case 'init':
      queue = queue.then(() => init(message, payload));
      return;
    case 'task':
      queue = queue.then(() => runTask(message.id, payload, message.seq, message.sourceFile));
      return;
    case 'flush':
      queue = queue.then(() => runFlush(message.id));
      return;
    case 'close':
      // Exit only once everything written is handed to the kernel.
      queue = queue.then(() => void channel.end(() => process.exit(0)));
      return;
  }
}

// A corrupt stream throws in the onread callback, uncaught: the child dies with the reason
// on stderr and main reports it.
// Main went away (or its end broke): nothing is left to do for anyone.
channel.on('end', () => process.exit(0));
channel.on('error', () => process.exit(1));
