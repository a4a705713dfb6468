/**
 * Parquet encoding off the main thread. One encoder thread per process (started with the
 * first Parquet file, ended with the last) receives each batch as Arrow IPC bytes in a
 * small ring of reused SharedArrayBuffer slots (warm memory: a copy at memcpy speed, no
 * fresh allocation per batch) and encodes row groups with polars while the main thread
 * reads and runs stages. A batch's memory is free once `write()` resolves (it was copied
 * into a slot); all slots busy = backpressure on the sink.
 *
 * A thread that dies fails every open file and every waiting call: never a hang.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RecordBatch } from 'apache-arrow';
import { encodeBatches } from '../../../batch/ipc';
import { loaderExecArgv } from '../../../loader';

export type EncoderRequest =
  | { op: 'open'; id: number; fd: number; compression: string; rowGroupSize: number }
  | { op: 'batch'; id: number; slot: number; sab: SharedArrayBuffer; length: number }
  | { op: 'close'; id: number }
  | { op: 'abort'; id: number };

export type EncoderReply =
  | { op: 'free'; slot: number }
  | { op: 'closed'; id: number; rows: number; rowGroups: number }
  | { op: 'aborted'; id: number }
  | { op: 'failed'; id: number; message: string; stack?: string };

export interface EncoderThreadData {
  pendingBudgetBytes: number;
}

/** Default bound on rows waiting for a full row group over all files (see the thread). */
export const PENDING_BUDGET_BYTES = 256 * 1024 * 1024;

const ENTRY = path.join(__dirname, 'parquet-encoder-thread.cjs');
/** Batches in flight to the encoder: one being read, one queued, one being copied. */
const SLOTS = 3;

interface FileState {
  error?: Error;
  closing?: { resolve: (r: { rows: number; rowGroups: number }) => void; reject: (e: Error) => void };
  aborting?: () => void;
}

export class ParquetEncoder {
  private readonly worker: Worker;
  private readonly slots: { sab: SharedArrayBuffer; free: boolean }[] = [];
  private readonly slotWaiters: { resolve: (slot: number) => void; reject: (e: Error) => void }[] = [];
  private readonly files = new Map<number, FileState>();
  private nextId = 0;
  private dead: Error | undefined;
  /** Every batch copied into a slot, and how many slots were ever allocated or grown (for tests and stats). */
  readonly stats = { batches: 0, slotAllocations: 0 };

  constructor(opts: Partial<EncoderThreadData> = {}) {
    const workerData: EncoderThreadData = { pendingBudgetBytes: opts.pendingBudgetBytes ?? PENDING_BUDGET_BYTES };
    this.worker = new Worker(ENTRY, { execArgv: loaderExecArgv(), workerData });
    for (let i = 0; i < SLOTS; i++) this.slots.push({ sab: new SharedArrayBuffer(0), free: true });
    this.worker.on('message', (r: EncoderReply) => this.onReply(r));
    this.worker.on('error', (err) => this.die(new Error(`the Parquet encoder thread failed: ${err.message}`, { cause: err })));
    this.worker.on('exit', (code) => this.die(new Error(`the Parquet encoder thread exited (code ${code})`)));
  }

  open(fd: number, opts: { compression: string; rowGroupSize: number }): number {
    this.check();
    const id = this.nextId++;
    this.files.set(id, {});
    this.post({ op: 'open', id, fd, ...opts });
    return id;
  }

  async write(id: number, batch: RecordBatch): Promise<void> {
    this.check(id);
    const { chunks, byteLength } = encodeBatches([batch]);
    const slot = await this.takeSlot();
    this.check(id);
    const s = this.slots[slot];
    if (s.sab.byteLength < byteLength) {
      // Grow with headroom so slightly bigger batches later do not allocate again.
      s.sab = new SharedArrayBuffer(Math.ceil(byteLength * 1.25));
      this.stats.slotAllocations++;
    }
    const into = new Uint8Array(s.sab);
    let at = 0;
    for (const c of chunks) {
      into.set(c, at);
      at += c.byteLength;
    }
    this.stats.batches++;
    this.post({ op: 'batch', id, slot, sab: s.sab, length: byteLength });
  }

  close(id: number): Promise<{ rows: number; rowGroups: number }> {
    this.check(id);
    return new Promise((resolve, reject) => {
      this.files.get(id)!.closing = { resolve, reject };
      this.post({ op: 'close', id });
    });
  }

  /** Drops the file's pending rows; resolves once the thread no longer touches its descriptor. */
  abort(id: number): Promise<void> {
    const file = this.files.get(id);
    if (!file || this.dead) return Promise.resolve();
    return new Promise((resolve) => {
      file.aborting = resolve;
      this.post({ op: 'abort', id });
    });
  }

  get alive(): boolean {
    return !this.dead;
  }

  get openFiles(): number {
    return this.files.size;
  }

  async destroy(): Promise<void> {
    this.dead ??= new Error('the Parquet encoder was closed');
    await this.worker.terminate();
  }

  private check(id?: number): void {
    if (this.dead) throw this.dead;
    const error = id === undefined ? undefined : this.files.get(id)?.error;
    if (error) throw error;
  }

  private takeSlot(): Promise<number> {
    const free = this.slots.findIndex((s) => s.free);
    if (free >= 0) {
      this.slots[free].free = false;
      return Promise.resolve(free);
    }
    return new Promise((resolve, reject) => this.slotWaiters.push({ resolve, reject }));
  }

  private onReply(r: EncoderReply): void {
    if (r.op === 'free') {
      const waiter = this.slotWaiters.shift();
      if (waiter) waiter.resolve(r.slot);
      else this.slots[r.slot].free = true;
      return;
    }
    const file = this.files.get(r.id);
    if (!file) return;
    if (r.op === 'aborted') {
      this.files.delete(r.id);
      file.aborting?.();
      return;
    }
    if (r.op === 'closed') {
      this.files.delete(r.id);
      file.closing?.resolve({ rows: r.rows, rowGroups: r.rowGroups });
      return;
    }
    const err = Object.assign(new Error(r.message), { stack: r.stack });
    file.error = err;
    if (file.aborting) return; // the 'aborted' reply follows
    if (file.closing) {
      this.files.delete(r.id);
      file.closing.reject(err);
    }
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    for (const w of this.slotWaiters.splice(0)) w.reject(err);
    for (const [, file] of this.files) {
      file.closing?.reject(err);
      file.aborting?.(); // a dead thread writes nothing more
    }
    this.files.clear();
  }

  private post(m: EncoderRequest): void {
    this.worker.postMessage(m);
  }
}

/** The process's encoder, shared by every open Parquet file; ended when the last one closes. */
let shared: { encoder: ParquetEncoder; users: number } | undefined;

export function acquireEncoder(): ParquetEncoder {
  if (!shared || !shared.encoder.alive) shared = { encoder: new ParquetEncoder(), users: 0 };
  shared.users++;
  return shared.encoder;
}

export async function releaseEncoder(encoder: ParquetEncoder): Promise<void> {
  if (!shared || shared.encoder !== encoder) {
    await encoder.destroy();
    return;
  }
  if (--shared.users > 0) return;
  shared = undefined;
  await encoder.destroy();
}
