/**
 * The Parquet encoder on the main thread: the same work and messages as an encoder thread
 * (serve.ts), over a MessageChannel within this thread. The pool (pool.ts) encodes a small
 * output here instead of starting a thread for it: the aggregate a job flushes at its end is a
 * few hundred rows, and a thread costs its isolate (~13 MB of RSS) and its start (~0.2 CPU-s of
 * loading apache-arrow and polars' bindings) to encode them.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { FrameReclaimer } from '../../../batch/reclaim';
import type { EncoderReply, EncoderRequest } from '../../../protocol/encoder';
import type { CopyExit } from '../../../supervisor/types';
import type { CsvChunkMeta } from '../../../csv/item';
import { serveEncoder, type EncoderPort } from './serve';

/** The main thread's heap is larger than an encoder thread's (a full collection costs more): collect less often. */
const RECLAIM_GROWTH_BYTES = 64 * 1024 * 1024;

/** What the pool asks of an encoder, a thread of its own (ThreadCopy) or this one. */
export interface EncoderCopy {
  readonly copy: number;
  readonly exit: CopyExit | undefined;
  readonly exited: Promise<void>;
  send(message: EncoderRequest<CsvChunkMeta>, transfer?: ArrayBuffer[]): void;
  expectReply(key: string): void;
  replied(key: string): void;
  onMessage(listener: (reply: EncoderReply) => void): void;
  onDeath(listener: (exit: CopyExit) => void): void;
  pin(): void;
  kill(): Promise<void>;
}

export class LocalEncoder implements EncoderCopy {
  exit: CopyExit | undefined;
  readonly exited: Promise<void>;
  private markExited!: () => void;
  private readonly pool: MessagePort;
  private readonly encoder: MessagePort;
  /** Replies owed, by key: while there are any, the port keeps Node running (as ThreadCopy's refWhileOwed). */
  private readonly owed = new Set<string>();

  constructor(
    readonly copy: number,
    flags: { stop: Int32Array; busy: Int32Array },
  ) {
    this.exited = new Promise<void>((resolve) => (this.markExited = resolve));
    const { port1, port2 } = new MessageChannel();
    this.pool = port1;
    this.encoder = port2;
    serveEncoder(port2 as unknown as EncoderPort, { ...flags, exit: () => void this.kill(), reclaimer: new FrameReclaimer({ growthBytes: RECLAIM_GROWTH_BYTES }) });
    // Idle, neither end keeps Node running (an inline stage that never settles must end the run as a stall, not hang it).
    port2.unref();
    port1.unref();
  }

  send(message: EncoderRequest<CsvChunkMeta>, transfer?: ArrayBuffer[]): void {
    if (!this.exit) this.pool.postMessage(message, transfer);
  }

  expectReply(key: string): void {
    this.owed.add(key);
    this.pool.ref();
  }

  replied(key: string): void {
    if (this.owed.delete(key) && this.owed.size === 0) this.pool.unref();
  }

  onMessage(listener: (reply: EncoderReply) => void): void {
    this.pool.on('message', listener);
    this.pool.unref(); // adding a listener refs the port again
  }

  /** It runs on the main thread: it cannot die without the run (a failure of its work comes as a `failed` reply). */
  onDeath(_listener: (exit: CopyExit) => void): void {}

  /** From now on it keeps Node running until it stops (its stop is awaited). */
  pin(): void {
    if (!this.exit) this.pool.ref();
  }

  async kill(): Promise<void> {
    if (this.exit) return;
    this.exit = { exitCode: 0, signal: null };
    this.pool.close();
    this.encoder.close();
    this.markExited();
  }
}
