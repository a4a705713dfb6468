/**
 * Parquet encoding off the main thread, on as many threads as it takes to keep up (up to a
 * limit set by the cores). The main side cuts each file's batches into exact row groups and
 * gives every group to one encoder thread (the least busy; another thread starts only when a
 * group is ready while every started one is still encoding, so a small output costs one). Batches travel as Arrow IPC bytes in
 * a small ring of reused SharedArrayBuffer slots (warm memory: a copy at memcpy speed, no
 * fresh allocation per batch); all slots busy = backpressure on the sink. A thread sends each
 * group back as a small whole Parquet file; the parts are appended in group order and one
 * merged footer lists them (../../parquet/footer.ts).
 *
 * Threads never touch the output: the file is written here, in order, so an abort only has
 * to stop listening. A thread that dies fails every open file and every waiting call: never
 * a hang.
 */
import { writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { encodeBatches } from '../../../batch/ipc';
import type { Backing } from '../../../batch/owned';
import { leaseOf, type Lease } from '../../../batch/shared';
import { retain } from '../../../batch/slab';
import { PARQUET_ENCODER_SLOTS, PARQUET_MAX_ROW_GROUP_ROWS, PARQUET_PENDING_BUDGET_BYTES } from '../../../defaults';
import { SourceError, deserializeError } from '../../../errors';
import type { EncoderReply, EncoderRequest } from '../../../protocol/encoder';
import { ThreadCopy } from '../../../supervisor/thread';
import { ParquetAssembler } from '../../parquet/footer';
import type { ChunkText, CsvParse } from '../../csv/parse';

/** What a CSV chunk's message carries besides its text (protocol/encoder.ts). */
export type EncoderCsv = { chunk: Omit<ChunkText, 'text'>; parse: CsvParse };
type Request = EncoderRequest<EncoderCsv>;


const ENTRY = path.join(__dirname, 'parquet-encoder-thread.cjs');

export interface EncoderOptions {
  pendingBudgetBytes: number;
  /**
   * The most encoder threads. Default: one per core beyond the first, at most 4. On this
   * project's 2-core machine a second thread made a 10 M-row conversion 3–10 % slower (both
   * cores are already busy parsing and encoding), so there it stays at one.
   */
  threads: number;
}

interface Part {
  rows: number;
  whole: boolean;
  bytes?: Uint8Array;
}

interface FileState {
  fd: number;
  compression: string;
  rowGroupSize: number;
  assembler: ParquetAssembler;
  /** The open group: its number, rows and IPC bytes so far, and its thread (once a batch went). */
  group: number;
  groupRows: number;
  groupBytes: number;
  groupThread: EncoderThread | undefined;
  /** Groups ended (sent to be encoded) and groups written, in order; parts that came early. */
  ended: number;
  written: number;
  early: Map<number, Part>;
  /** The earliest group whose CSV did not parse: its error is raised when it is next in order. */
  badGroup?: { group: number; err: SourceError };
  rows: number;
  /** The last CSV chunk without rows: written at close when no group has rows (it has the columns). */
  emptyCsv?: ChunkText & { parse: CsvParse };
  error?: Error;
  closing?: { resolve: (r: { rows: number; rowGroups: number }) => void; reject: (e: Error) => void };
}

interface EncoderThread {
  copy: ThreadCopy<Request, EncoderReply>;
  /** Groups given to it and not yet returned (`file:group`); its load. */
  groups: Set<string>;
}

export class ParquetEncoder {
  private readonly threads: EncoderThread[] = [];
  private readonly maxThreads: number;
  private readonly maxParseThreads = os.availableParallelism();
  private readonly pendingBudgetBytes: number;
  /** Batches in flight: a slot's own buffer holds a copy, or `hold` keeps the slab read in place. */
  private readonly slots: { sab: SharedArrayBuffer; free: boolean; hold?: Lease }[] = [];
  private readonly slotWaiters: { resolve: (slot: number) => void; reject: (e: Error) => void }[] = [];
  private readonly files = new Map<number, FileState>();
  private nextId = 0;
  private dead: Error | undefined;
  /** Batches copied into a slot, slots ever allocated or grown, and threads started (for tests and stats). */
  readonly stats = { batches: 0, slotAllocations: 0, threadsStarted: 0, readInPlace: 0 };

  constructor(opts: Partial<EncoderOptions> = {}) {
    this.pendingBudgetBytes = opts.pendingBudgetBytes ?? PARQUET_PENDING_BUDGET_BYTES;
    this.maxThreads = Math.max(1, opts.threads ?? Math.min(4, os.availableParallelism() - 1));
    for (let i = 0; i < PARQUET_ENCODER_SLOTS; i++) this.slots.push({ sab: new SharedArrayBuffer(0), free: true });
    this.startThread(); // at once: loading polars takes a moment, better spent before the first batch
  }

  open(fd: number, opts: { compression: string; rowGroupSize: number }): number {
    this.checkAlive();
    if (opts.rowGroupSize > PARQUET_MAX_ROW_GROUP_ROWS) {
      throw new Error(`rowGroupSize ${opts.rowGroupSize} is above ${PARQUET_MAX_ROW_GROUP_ROWS}, the most polars 0.24.1 writes as one row group`);
    }
    const id = this.nextId++;
    this.files.set(id, {
      fd,
      ...opts,
      assembler: new ParquetAssembler(),
      group: 0,
      groupRows: 0,
      groupBytes: 0,
      groupThread: undefined,
      ended: 0,
      written: 0,
      early: new Map(),
      rows: 0,
    });
    return id;
  }

  /**
   * A chunk of CSV rows becomes a row group of its own, parsed and encoded on a thread (for
   * converting CSV without stages: no Arrow in between). Resolves once the text is copied
   * into a slot. Every thread may parse (up to one per core): parsing is most of the work.
   */
  async writeCsv(id: number, chunk: ChunkText & { parse: CsvParse }): Promise<void> {
    const file = this.fileOf(id);
    if (chunk.rows === 0) {
      file.emptyCsv = chunk;
      return;
    }
    if (file.groupRows > 0 || file.groupThread) this.endGroup(id, file, false);
    const slot = await this.takeSlotFor(id);
    this.sendCsv(id, file, chunk, slot, false);
  }

  private sendCsv(id: number, file: FileState, chunk: ChunkText & { parse: CsvParse }, slot: number, orEmpty: boolean): void {
    const s = this.slots[slot];
    if (s.sab.byteLength < chunk.text.length) {
      s.sab = new SharedArrayBuffer(Math.ceil(chunk.text.length * 1.25));
      this.stats.slotAllocations++;
    }
    new Uint8Array(s.sab).set(chunk.text);
    this.stats.batches++;
    const thread = this.pickThread(id, file.group, Math.max(this.maxThreads, this.maxParseThreads));
    const { text, parse, ...where } = chunk;
    this.post(thread, { type: 'csv', id, group: file.group, slot, sab: s.sab, length: text.length, chunk: where, parse, compression: file.compression, orEmpty });
    file.group++;
    file.ended++;
    file.rows += chunk.rows;
  }

  /**
   * Resolves once the batch is copied into a slot (or, read in place from `backing`, held by
   * the encoder until a thread has read it): the caller's memory is free again.
   */
  async write(id: number, batch: RecordBatch, backing?: Backing): Promise<void> {
    const file = this.fileOf(id);
    let offset = 0;
    do {
      // Cut at the row-group boundary: the slices are views (apache-arrow), nothing is copied.
      const take = Math.min(file.rowGroupSize - file.groupRows, batch.numRows - offset);
      const whole = offset === 0 && take === batch.numRows;
      await this.send(id, file, whole ? batch : batch.slice(offset, offset + take), whole ? backing : undefined);
      offset += take;
      if (file.groupRows >= file.rowGroupSize) this.endGroup(id, file, false);
    } while (offset < batch.numRows);
    this.keepWithinBudget();
  }

  async close(id: number): Promise<{ rows: number; rowGroups: number }> {
    const file = this.fileOf(id);
    // No rows at all, but CSV columns: a file with them (as polars parses them).
    if (file.ended === 0 && file.groupRows === 0 && file.emptyCsv) this.sendCsv(id, file, file.emptyCsv, await this.takeSlotFor(id), true);
    return new Promise((resolve, reject) => {
      file.closing = { resolve, reject };
      if (file.groupRows > 0 || file.groupThread || file.ended === 0) this.endGroup(id, file, file.ended === 0);
      this.flush(id, file);
    });
  }

  /** Forgets the file: its threads drop what they hold, nothing more is written to it. */
  async abort(id: number): Promise<void> {
    if (!this.files.delete(id) || this.dead) return;
    this.drop(id);
  }

  get alive(): boolean {
    return !this.dead;
  }

  get openFiles(): number {
    return this.files.size;
  }

  async destroy(): Promise<void> {
    this.die(new Error('the Parquet encoder was closed'));
    await Promise.all(this.threads.map((t) => t.copy.kill()));
    // Only now that no thread can be reading them may the slabs be reused.
    for (const s of this.slots) s.hold?.release();
  }

  private async send(id: number, file: FileState, batch: RecordBatch, backing: Backing | undefined): Promise<void> {
    const slot = await this.takeSlotFor(id);
    this.stats.batches++;
    const thread = (file.groupThread ??= this.pickThread(id, file.group));
    file.groupRows += batch.numRows;
    file.rows += batch.numRows;
    if (backing) {
      // The batch is exactly these IPC bytes in a shared slab (what polars or a process
      // stage's child wrote): the thread reads them there, nothing is copied or re-encoded;
      // the slab is held until the thread has read it.
      retain(backing.slab);
      this.slots[slot].hold = leaseOf([backing.slab]);
      this.stats.readInPlace++;
      file.groupBytes += backing.length;
      const format = backing.format === 'ipc-file' ? 'file' : 'stream';
      this.post(thread, { type: 'batch', id, group: file.group, slot, format, sab: backing.slab, offset: backing.offset, length: backing.length });
      return;
    }
    const { chunks, byteLength } = encodeBatches([batch]);
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
    file.groupBytes += byteLength;
    this.post(thread, { type: 'batch', id, group: file.group, slot, format: 'stream', sab: s.sab, offset: 0, length: byteLength });
  }

  private endGroup(id: number, file: FileState, orEmpty: boolean): void {
    const thread = (file.groupThread ??= this.pickThread(id, file.group));
    this.post(thread, { type: 'end', id, group: file.group, compression: file.compression, orEmpty });
    file.group++;
    file.ended++;
    file.groupRows = 0;
    file.groupBytes = 0;
    file.groupThread = undefined;
  }

  /** The least busy thread; a new one when every started thread is busy and the limit allows. */
  private pickThread(id: number, group: number, limit = this.maxThreads): EncoderThread {
    let best = this.threads[0];
    for (const t of this.threads) if (t.groups.size < best.groups.size) best = t;
    if (best.groups.size > 0 && this.threads.length < limit) best = this.startThread();
    best.groups.add(`${id}:${group}`);
    return best;
  }

  private startThread(): EncoderThread {
    const copy = new ThreadCopy<Request, EncoderReply>({ entry: ENTRY, copy: this.threads.length });
    const thread: EncoderThread = { copy, groups: new Set() };
    this.threads.push(thread);
    this.stats.threadsStarted++;
    encoderTotals.threadsStarted++;
    copy.onMessage((r) => this.onReply(thread, r));
    copy.onDeath(({ exitCode, error }) =>
      this.die(error !== undefined ? new Error(`a Parquet encoder thread failed: ${(error as Error)?.message ?? String(error)}`, { cause: error }) : new Error(`a Parquet encoder thread exited (code ${exitCode})`)),
    );
    void copy.start(); // synchronous underneath: the thread exists, and takes messages, from here on
    return thread;
  }

  /** Ends the biggest waiting groups early while all of them together exceed the budget. */
  private keepWithinBudget(): void {
    let total = 0;
    for (const f of this.files.values()) total += f.groupBytes;
    while (total > this.pendingBudgetBytes) {
      let biggest: [number, FileState] | undefined;
      for (const entry of this.files) if (!biggest || entry[1].groupBytes > biggest[1].groupBytes) biggest = entry;
      const [id, file] = biggest!;
      total -= file.groupBytes;
      this.endGroup(id, file, false);
    }
  }

  private checkAlive(): void {
    if (this.dead) throw this.dead;
  }

  private fileOf(id: number): FileState {
    this.checkAlive();
    const file = this.files.get(id);
    if (!file) throw new Error(`Parquet output #${id} is not open`);
    if (file.error) throw file.error;
    return file;
  }

  private takeSlot(): Promise<number> {
    const free = this.slots.findIndex((s) => s.free);
    if (free >= 0) {
      this.slots[free].free = false;
      return Promise.resolve(free);
    }
    const since = performance.now();
    return new Promise<number>((resolve, reject) => this.slotWaiters.push({ resolve, reject })).finally(() => (encoderTotals.slotWaitMs += performance.now() - since));
  }

  /** A slot for file `id`, given back if the file failed or was dropped while waiting for it. */
  private async takeSlotFor(id: number): Promise<number> {
    const slot = await this.takeSlot();
    try {
      this.fileOf(id); // still open?
    } catch (err) {
      this.freeSlot(slot);
      throw err;
    }
    return slot;
  }

  private freeSlot(slot: number): void {
    this.slots[slot].hold?.release();
    this.slots[slot].hold = undefined;
    const waiter = this.slotWaiters.shift();
    if (waiter) waiter.resolve(slot);
    else this.slots[slot].free = true;
  }

  private onReply(thread: EncoderThread, r: EncoderReply): void {
    encoderTotals.busyMs += r.busyMs ?? 0;
    if (r.type === 'free') {
      this.freeSlot(r.slot);
      return;
    }
    thread.groups.delete(`${r.id}:${r.group}`);
    const file = this.files.get(r.id);
    if (!file || file.error) return; // aborted, or already failed
    if (r.type === 'part') {
      file.early.set(r.group, r);
      this.flush(r.id, file);
      return;
    }
    const failed = deserializeError(r.error);
    if (failed instanceof SourceError) {
      // Bad input is reported in input order, as a source reading in order would: every
      // group before it is written first, so the same file gives the same error every run.
      if (!file.badGroup || r.group < file.badGroup.group) file.badGroup = { group: r.group, err: failed };
      this.flush(r.id, file);
      return;
    }
    this.fail(r.id, file, failed);
  }

  /** Writes the parts that are next in order; finishes a closing file once all are written. */
  private flush(id: number, file: FileState): void {
    try {
      for (let part = file.early.get(file.written); ; part = file.early.get(file.written)) {
        if (file.badGroup?.group === file.written) throw file.badGroup.err;
        if (!part) break;
        file.early.delete(file.written);
        file.written++;
        if (part.whole) write(file.fd, part.bytes!);
        else if (part.bytes) {
          if (file.assembler.written === 0) write(file.fd, file.assembler.header());
          write(file.fd, file.assembler.add(part.bytes));
        }
      }
      if (!file.closing || file.written < file.ended) return;
      if (file.assembler.rowGroups > 0) write(file.fd, file.assembler.footer());
      this.files.delete(id);
      file.closing.resolve({ rows: file.rows, rowGroups: file.assembler.rowGroups });
    } catch (err) {
      this.fail(id, file, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private fail(id: number, file: FileState, err: Error): void {
    file.error = err;
    this.drop(id);
    if (file.closing) {
      this.files.delete(id);
      file.closing.reject(err);
    }
  }

  /** Every thread forgets the file's groups (a reply still on its way is ignored). */
  private drop(id: number): void {
    for (const t of this.threads) {
      for (const key of t.groups) if (key.startsWith(`${id}:`)) t.groups.delete(key);
      this.post(t, { type: 'drop', id });
    }
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    for (const w of this.slotWaiters.splice(0)) w.reject(err);
    for (const [, file] of this.files) file.closing?.reject(err);
    this.files.clear();
  }

  private post(thread: EncoderThread, m: Request): void {
    thread.copy.send(m);
  }
}

function write(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * What every encoder of this process has done so far: threads started, milliseconds their
 * threads worked (reading batches, parsing CSV, encoding) and milliseconds writers waited for
 * a free slot (backpressure from the encoder). A run reports the difference over its span.
 */
export const encoderTotals = { threadsStarted: 0, busyMs: 0, slotWaitMs: 0 };

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
