/**
 * Entry of one child process of a `process` stage. Thin: it adapts the frame protocol
 * on fd 3 (protocol/process.ts) to the StageHost, which does not know its transport.
 *
 * Work runs strictly in arrival order, one message at a time, while the socket keeps
 * reading, so the next task's bytes arrive while this one computes (pipelining).
 * Logs are pino JSON lines on stderr; main re-emits them. Anything else on stderr
 * (a crash's stack trace) is kept by main for the error message.
 */
import net from 'node:net';
import v8 from 'node:v8';
import { encodeFrame, FrameDecoder } from '../batch/framing';
import { decodeBatches, encodeBatches } from '../batch/ipc';
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

const channel = new net.Socket({ fd: DATA_FD, readable: true, writable: true });
let host: StageHost | undefined;
let queue: Promise<void> = Promise.resolve();

function send(message: ChildToMain, payload: Uint8Array[] = []): void {
  // One writev for header and every body buffer: no concatenation of the batch bytes.
  channel.cork();
  for (const chunk of encodeFrame(encodeHeader(message), payload)) channel.write(chunk);
  channel.uncork();
}

function sendFailure(id: number | undefined, fallback: ProcessPhase, err: unknown): void {
  const phase = err instanceof StageError ? err.phase : fallback;
  const cause = err instanceof StageError && err.cause !== undefined ? err.cause : err;
  send({ type: 'failed', id, phase, error: serializeError(cause) });
}

async function init(message: Extract<MainToChild, { type: 'init' }>, payload: Uint8Array): Promise<void> {
  const options = payload.byteLength ? (v8.deserialize(payload) as Record<string, unknown>) : {};
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
  try {
    const output = await host!.process(decodeBatches(payload), seq, sourceFile);
    send({ type: 'result', id }, encodeBatches(output).chunks);
  } catch (err) {
    sendFailure(id, 'process', err);
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

const frames = new FrameDecoder((frame) => onMessage(decodeMainMessage(frame.header), frame.payload));
// A corrupt stream throws here, uncaught: the child dies with the reason on stderr, main reports it.
channel.on('data', (chunk: Buffer) => frames.push(chunk));
// Main went away (or its end broke): nothing is left to do for anyone.
channel.on('end', () => process.exit(0));
channel.on('error', () => process.exit(1));
