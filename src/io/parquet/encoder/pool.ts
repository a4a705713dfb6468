/**
 * The Parquet encoder threads and the few shared-memory slots batches reach them through.
 * One pool per Parquet output stage (operators/parquet-encode.ts) or partitioned Parquet sink;
 * it knows row groups, not files: a group is opened, fed batches (all on one thread, the least
 * busy when it got its first batch), and ended, and its promise resolves with the group as a
 * small whole Parquet file. A CSV chunk is a group of its own that the thread parses first.
 * Threads start as groups overlap, up to a limit.
 *
 * Batches travel as Arrow IPC bytes copied into a few reused slots (slots.ts), or, when a
 * batch is exactly the IPC bytes polars or a process stage's child wrote into a slab, read
 * there in place (the slab is held until the thread has read it). All slots busy = the caller
 * waits: backpressure. Rows waiting in open groups are bounded over the pool by a
 * budget: past it, the biggest open group is ended early (a smaller row group).
 *
 * A thread that dies fails every open group and every waiting call: never a hang. It is not
 * replaced (ENCODER_NOT_REPLACED says why); its death is named like any copy's
 * (supervisor/death.ts): the encoding stage, the thread, the earliest batch not yet encoded.
 */
import os from 'node:os';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { encodeBatches } from '../../../batch/ipc';
import { asPolarsReads, polarsReadsAsIs } from '../../../batch/polars';
import type { Backing } from '../../../batch/owned';
import { leaseOf } from '../../../batch/shared';
import { retain } from '../../../batch/slab';
import { PARQUET_ENCODER_SLOTS, PARQUET_PENDING_BUDGET_BYTES } from '../../../defaults';
import { deserializeError, type BatchLocation } from '../../../errors';
import type { EncoderReply, EncoderRequest } from '../../../protocol/encoder';
import { ThreadCopy } from '../../../supervisor/thread';
import { settlesWithin, STOP_GRACE_MS, type CopyExit } from '../../../supervisor/types';
import { deathError } from '../../../supervisor/death';
import { FirstFatal } from '../../../supervisor/first-fatal';
import type { CsvChunkMeta } from '../../../csv/item';
import type { ChunkText, CsvParse } from '../../../csv/parse';
import { SlotRing } from './slots';
import { LocalEncoder, type EncoderCopy } from './local';

type Request = EncoderRequest<CsvChunkMeta>;

/** One encoded row group: a whole small Parquet file (`whole`: the entire output, without rows); no bytes when it had no rows. */
export interface Part {
  rows: number;
  whole: boolean;
  bytes?: Uint8Array;
}

const ENTRY = path.join(__dirname, 'thread.cjs');

/**
 * The most encoder threads by default: one per core beyond the first, at most 4. On this
 * project's 2-core machine a second thread made a 10 M-row conversion 3–10 % slower (both
 * cores are already busy parsing and encoding), so there it stays at one.
 */
export function defaultEncoderThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

export interface PoolOptions {
  /** Most threads (default defaultEncoderThreads()). */
  threads?: number;
  pendingBudgetBytes?: number;
  /** Where a thread's death is said to be: the encoding stage, and the earliest batch it had not encoded yet. */
  where?: () => BatchLocation;
  /**
   * Encode on the main thread while every batch sent so far, this one included, adds up to at
   * most this many bytes, and start a thread only for an output larger than that (the first
   * group that would pass it): a job whose output is an aggregate's few rows starts none.
   * Groups begun on the main thread stay there. 0 (the default): a thread at once, never the main thread.
   */
  mainThreadBytes?: number;
}

/**
 * Why an encoder thread that dies is not replaced, whatever the stage's `retries`: it is
 * sluice's own code, so its death is a sluice bug or the machine running out of memory (which a
 * second try would meet again), and what it held cannot be sent again: a batch's bytes are
 * freed once the thread has read them (its slot), so the row group it was gathering exists only
 * in the dead thread. Replaying it would mean keeping every open group's batches twice.
 */
export const ENCODER_NOT_REPLACED = "sluice's own thread, not replaced (a sluice bug, or out of memory; its row group's batches were already handed to it)";

interface EncoderThread {
  /** A thread of its own, or the main thread's encoder (local.ts). */
  copy: EncoderCopy;
  /** Groups given to it and not yet returned: its load. */
  groups: Set<number>;
  /** 1 while the thread may be inside polars (thread.ts). */
  busy: Int32Array;
}

/**
 * Bound on waiting for an encode in progress at `destroy`: one row group's encode, even on a
 * loaded machine, takes seconds; past this the thread is taken as hung and terminated anyway
 * (never hang), whatever polars does then.
 */
const ENCODE_WAIT_MS = 60_000;

/** Until the thread is outside polars (or has exited, or ENCODE_WAIT_MS passed). */
export async function outOfPolars(busy: Int32Array, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  const done = exited.then(
    () => (gone = true),
    () => (gone = true),
  );
  const until = Date.now() + ENCODE_WAIT_MS;
  while (!gone && Atomics.load(busy, 0) === 1 && Date.now() < until) {
    // Atomics.waitAsync is in Node 20 (V8), not in TypeScript's ES2022 lib.
    const wait = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: Promise<string> | string } }).waitAsync(busy, 0, 1, until - Date.now());
    if (wait.async) await Promise.race([wait.value, done]);
  }
}

/** A row group being gathered: where its batches went, its bytes so far, and its result. */
export interface OpenGroup {
  readonly id: number;
  readonly part: Promise<Part>;
}

interface GroupState extends OpenGroup {
  thread: EncoderThread | undefined;
  bytes: number;
  ended: boolean;
  /** Set when its thread reported a failure: later batches for it are refused with it. */
  error?: Error;
  /** Called when the budget ends this group early (its owner opens a new one). */
  endEarly: () => void;
  settle: { resolve: (p: Part) => void; reject: (e: Error) => void };
}

export class EncoderPool {
  private readonly threads: EncoderThread[] = [];
  /** 1 once destroy() asks every thread to stop (shared with them; see encoder/thread.ts). */
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));
  private readonly maxThreads: number;
  private readonly pendingBudgetBytes: number;
  private readonly where: () => BatchLocation;
  /** Batches in flight: a slot's own buffer holds a copy, or a hold keeps the slab read in place. */
  private readonly slots = new SlotRing(PARQUET_ENCODER_SLOTS);
  private readonly groups = new Map<number, GroupState>();
  private nextGroup = 0;
  private dead: Error | undefined;
  /** A thread's death, told once, also to a listener registered after it (supervisor/first-fatal.ts). */
  private readonly deaths = new FirstFatal<Error>();
  /** Batches sent, threads started, batches read in place, bytes copied into slots, thread work time. */
  private readonly counts = { batches: 0, threadsStarted: 0, readInPlace: 0, bytesCopied: 0, busyMs: 0, groupsOnMainThread: 0 };
  private readonly mainThreadBytes: number;
  /** Bytes of every batch sent to an encoder so far (copied or read in place). */
  private bytesSent = 0;
  /** The main thread's encoder, once a group went there. */
  private local: EncoderThread | undefined;

  constructor(opts: PoolOptions = {}) {
    this.maxThreads = Math.max(1, opts.threads ?? defaultEncoderThreads());
    this.pendingBudgetBytes = opts.pendingBudgetBytes ?? PARQUET_PENDING_BUDGET_BYTES;
    this.where = opts.where ?? (() => ({ stage: 'parquet sink' }));
    this.mainThreadBytes = opts.mainThreadBytes ?? 0;
    // At once: loading polars takes a moment, better spent before the first batch; unless a
    // small output may be encoded on the main thread, when the first large batch starts it.
    if (this.mainThreadBytes === 0) this.startThread();
  }

  /** What it did so far (tests, the report): its counts, slots ever allocated or grown, milliseconds callers waited for a slot. */
  get stats(): typeof this.counts & { slotAllocations: number; slotWaitMs: number } {
    return { ...this.counts, slotAllocations: this.slots.allocations, slotWaitMs: this.slots.waitMs };
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** How each thread ended, once it did (tests): exit code 0 when it stopped by itself. */
  get threadExits(): Array<CopyExit | undefined> {
    return this.threads.map((t) => t.copy.exit);
  }

  /** Called once if a thread dies (not when the pool is destroyed). */
  onDeath(listener: (err: Error) => void): void {
    this.deaths.listen(listener);
  }

  /** A new row group; `endEarly` is called if the budget ends it before its owner does. */
  open(endEarly: () => void): OpenGroup {
    this.checkAlive();
    let settle!: GroupState['settle'];
    const part = new Promise<Part>((resolve, reject) => (settle = { resolve, reject }));
    part.catch(() => undefined); // an aborted output never asks for its parts
    const group: GroupState = { id: this.nextGroup++, part, thread: undefined, bytes: 0, ended: false, endEarly, settle };
    this.groups.set(group.id, group);
    return group;
  }

  /**
   * Resolves once the batch is copied into a slot (or, read in place from `backing`, held by
   * the pool until a thread has read it): the caller's memory is free again.
   */
  async add(open: OpenGroup, batch: RecordBatch, backing?: Backing): Promise<void> {
    const slot = await this.takeSlot();
    const group = this.groups.get(open.id);
    if (!group || group.ended) {
      this.slots.free(slot);
      throw group?.error ?? new Error(`internal: row group #${open.id} is not open`);
    }
    this.counts.batches++;
    // A process child's IPC bytes may hold a map or a dictionary, which polars must not see as
    // they are (batch/polars.ts asPolarsReads).
    if (backing && !polarsReadsAsIs(batch.schema)) backing = undefined;
    const encoded = backing ? undefined : encodeBatches([asPolarsReads(batch)]);
    const bytes = backing ? backing.length : encoded!.byteLength;
    this.bytesSent += bytes;
    const thread = (group.thread ??= this.pickThread(group.id));
    if (backing) {
      // The batch is exactly these IPC bytes in a shared slab (what polars or a process
      // stage's child wrote): the thread reads them there, nothing is copied or re-encoded;
      // the slab is held until the thread has read it.
      retain(backing.slab);
      this.slots.hold(slot, leaseOf([backing.slab]));
      this.counts.readInPlace++;
      group.bytes += backing.length;
      const format = backing.format === 'ipc-file' ? 'file' : 'stream';
      thread.copy.expectReply(`slot ${slot}`);
      thread.copy.send({ type: 'batch', group: group.id, slot, format, sab: backing.slab, offset: backing.offset, length: backing.length });
    } else {
      const { chunks, byteLength } = encoded!;
      const into = this.slots.bytes(slot, byteLength);
      let at = 0;
      for (const c of chunks) {
        into.set(c, at);
        at += c.byteLength;
      }
      this.counts.bytesCopied += byteLength;
      group.bytes += byteLength;
      thread.copy.expectReply(`slot ${slot}`);
      thread.copy.send({ type: 'batch', group: group.id, slot, format: 'stream', sab: this.slots.buffer(slot), offset: 0, length: byteLength });
    }
    this.keepWithinBudget();
  }

  /** Encode the group; resolves with its part. `orEmpty`: no rows → a whole file with the schema. */
  end(open: OpenGroup, compression: string, orEmpty: boolean): Promise<Part> {
    const group = this.groups.get(open.id);
    if (!group || group.ended) {
      if (group?.error) this.groups.delete(open.id);
      return open.part;
    }
    group.ended = true;
    group.bytes = 0;
    const thread = (group.thread ??= this.pickThread(group.id));
    thread.copy.expectReply(`group ${group.id}`);
    thread.copy.send({ type: 'end', group: group.id, compression, orEmpty });
    return group.part;
  }

  /**
   * A CSV chunk parsed and encoded as one group (parsing is most of the work, so every thread
   * takes chunks). Resolves once the text is copied into a slot (the caller's memory is free
   * again) with the group's part, which rejects with the chunk's SourceError (file, line,
   * column) if it does not parse.
   */
  async csv(chunk: ChunkText & { parse: CsvParse }, compression: string, orEmpty: boolean): Promise<{ part: Promise<Part> }> {
    const slot = await this.takeSlot();
    const group = this.open(() => undefined) as GroupState;
    group.ended = true;
    this.slots.bytes(slot, chunk.text.length).set(chunk.text);
    this.counts.batches++;
    this.counts.bytesCopied += chunk.text.length;
    group.thread = this.pickThread(group.id);
    const { text, parse, ...where } = chunk;
    group.thread.copy.expectReply(`slot ${slot}`);
    group.thread.copy.expectReply(`group ${group.id}`);
    group.thread.copy.send({ type: 'csv', group: group.id, slot, sab: this.slots.buffer(slot), length: text.length, chunk: where, parse, compression, orEmpty });
    return { part: group.part };
  }

  /**
   * A CSV chunk's rows added to an open group (parsed on the group's thread, ended by `end`
   * like a group of batches): small files' chunks joined into one row group. Resolves once the
   * text is copied into a slot; refused with the group's error if an earlier chunk of it failed.
   */
  async csvInto(open: OpenGroup, chunk: ChunkText & { parse: CsvParse }): Promise<void> {
    const slot = await this.takeSlot();
    const group = this.groups.get(open.id);
    if (!group || group.ended) {
      this.slots.free(slot);
      throw group?.error ?? new Error(`internal: row group #${open.id} is not open`);
    }
    this.slots.bytes(slot, chunk.text.length).set(chunk.text);
    this.counts.batches++;
    this.counts.bytesCopied += chunk.text.length;
    const thread = (group.thread ??= this.pickThread(group.id));
    const { text, parse, ...where } = chunk;
    thread.copy.send({ type: 'csv', group: group.id, slot, sab: this.slots.buffer(slot), length: text.length, chunk: where, parse, compression: '', orEmpty: false, into: true });
  }

  /** Forget the group: its thread drops what it holds; its part never comes. */
  drop(open: OpenGroup): void {
    const group = this.groups.get(open.id);
    if (!group) return;
    this.groups.delete(open.id);
    group.thread?.groups.delete(open.id);
    group.thread?.copy.send({ type: 'drop', group: open.id });
  }

  async destroy(): Promise<void> {
    this.die(new Error('the Parquet encoder was closed'), false);
    // Each thread exits by itself before its next message, so what it encodes now finishes
    // (bounded by STOP_GRACE_MS); a termination inside polars' writer would panic.
    Atomics.store(this.stopFlag, 0, 1);
    await Promise.all(
      [...this.threads, ...(this.local ? [this.local] : [])].map(async (t) => {
        t.copy.pin(); // its exit is awaited now: Node must wait for it
        t.copy.send({ type: 'stop' });
        await settlesWithin(t.copy.exited, STOP_GRACE_MS);
        // Never terminated inside polars' writer: that panics, and on a loaded machine it took
        // the whole process down (SIGSEGV) after a failed run's grace time ran out mid-encode.
        await outOfPolars(t.busy, t.copy.exited);
        await t.copy.kill();
      }),
    );
    // Only now that no thread can be reading them may the slabs be reused.
    this.slots.releaseHolds();
  }

  /**
   * The main thread's encoder while the output is small and no thread was needed yet
   * (`mainThreadBytes`); else the least busy thread, a new one when every started thread is
   * busy and `limit` allows.
   */
  private pickThread(group: number, limit = this.maxThreads): EncoderThread {
    if (this.mainThreadBytes > 0 && this.threads.length === 0 && this.bytesSent <= this.mainThreadBytes) {
      this.local ??= this.startLocal();
      this.local.groups.add(group);
      this.counts.groupsOnMainThread++;
      return this.local;
    }
    if (this.threads.length === 0) this.startThread();
    let best = this.threads[0];
    for (const t of this.threads) if (t.groups.size < best.groups.size) best = t;
    if (best.groups.size > 0 && this.threads.length < limit) best = this.startThread();
    best.groups.add(group);
    return best;
  }

  private startThread(): EncoderThread {
    // Idle, it does not keep Node running (an inline stage that never settles must end the run as a stall, not hang it).
    const busy = new Int32Array(new SharedArrayBuffer(4));
    const copy = new ThreadCopy<Request, EncoderReply>({ entry: ENTRY, copy: this.threads.length, workerData: { stop: this.stopFlag.buffer, busy: busy.buffer }, refWhileOwed: true });
    const thread: EncoderThread = { copy, groups: new Set(), busy };
    this.threads.push(thread);
    this.counts.threadsStarted++;
    copy.onMessage((r) => this.onReply(thread, r));
    // Named as a stage's copy is (the one mapping, supervisor/death.ts), by its number.
    copy.onDeath((exit) => this.die(deathError(exit, { ...this.where(), copy: copy.copy }, 'process', { copyName: `the Parquet encoder thread ${copy.copy}`, unreplaceable: ENCODER_NOT_REPLACED })));
    void copy.start(); // synchronous underneath: the thread exists, and takes messages, from here on
    return thread;
  }

  private startLocal(): EncoderThread {
    const busy = new Int32Array(new SharedArrayBuffer(4));
    const thread: EncoderThread = { copy: new LocalEncoder(0, { stop: this.stopFlag, busy }), groups: new Set(), busy };
    thread.copy.onMessage((r) => this.onReply(thread, r));
    return thread;
  }

  /** Ends the biggest open groups early while all of them together exceed the budget. */
  private keepWithinBudget(): void {
    let total = 0;
    for (const g of this.groups.values()) if (!g.ended) total += g.bytes;
    while (total > this.pendingBudgetBytes) {
      let biggest: GroupState | undefined;
      for (const g of this.groups.values()) if (!g.ended && (!biggest || g.bytes > biggest.bytes)) biggest = g;
      if (!biggest) return;
      total -= biggest.bytes;
      biggest.endEarly(); // its owner ends it (pool.end) and opens the next
      if (!biggest.ended) throw new Error(`internal: row group #${biggest.id} was not ended by its owner`);
    }
  }

  private checkAlive(): void {
    if (this.dead) throw this.dead;
  }

  private takeSlot(): Promise<number> {
    this.checkAlive();
    return this.slots.take();
  }

  private onReply(thread: EncoderThread, r: EncoderReply): void {
    this.counts.busyMs += r.busyMs ?? 0;
    if (r.type === 'free') {
      thread.copy.replied(`slot ${r.slot}`);
      this.slots.free(r.slot);
      return;
    }
    thread.copy.replied(`group ${r.group}`);
    thread.groups.delete(r.group);
    const group = this.groups.get(r.group);
    if (!group) return; // dropped
    if (r.type === 'part') {
      this.groups.delete(r.group);
      group.settle.resolve(r);
      return;
    }
    // Kept (ended) until its owner ends or drops it, so a later batch for it gets this error.
    group.ended = true;
    group.error = deserializeError(r.error);
    group.settle.reject(group.error);
  }

  private die(err: Error, notify = true): void {
    if (this.dead) return;
    this.dead = err;
    this.slots.fail(err);
    for (const g of this.groups.values()) g.settle.reject(err);
    this.groups.clear();
    if (notify) this.deaths.report(err);
  }
}

