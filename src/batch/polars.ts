/**
 * polars ⇄ Arrow. Both sides speak Arrow IPC, so a conversion is one serialisation;
 * apache-arrow reads the IPC bytes as views (no second copy).
 */
import { Writable } from 'node:stream';
import { RecordBatch, tableFromIPC, type Schema } from 'apache-arrow';
import type pl from 'nodejs-polars';
import { concatBatches } from './concat-batches';
import { dictionariesAsValues, hasDictionary } from './dictionaries';
import { encodeBatches } from './ipc';
import { hasMap, mapsAsLists } from './map-as-list';
import type { Backing } from './owned';
import { leaseOf, type Lease } from './shared';
import { SLAB_HEADER, release, type SlabArena } from './slab';
import './arrow-names'; // before any schema is decoded
// A stage copy that never asks for a DataFrame does not pay for loading polars (~60 ms of CPU in every thread and child).
import { polars } from './lazy-polars';

/** Conversions so far in this thread: a task that made none left no polars frames of ours behind. */
export const conversions = { count: 0 };

/**
 * Whether polars may read the batch's IPC bytes as they are: no map (polars 0.24.1 reads a
 * null map as an empty list and has no map type: map-as-list.ts) and no dictionary (polars
 * makes a Categorical of it, which joins, compares and concatenates with no plain String
 * column, nor with another batch's Categorical: dictionaries.ts).
 */
export function polarsReadsAsIs(schema: Schema): boolean {
  return !hasMap(schema) && !hasDictionary(schema);
}

/** The batch as polars must be given it: maps as lists of entries, dictionaries as their values. */
export function asPolarsReads(batch: RecordBatch): RecordBatch {
  return mapsAsLists(dictionariesAsValues(batch));
}

/**
 * Most chunks a handed-on frame is joined from without polars' rechunk. Measured on the nightly
 * job (interleaved pairs): 2 chunks (a filter's output) joined cost 0.965x the CPU of the whole
 * run; 33 chunks (a CSV parse's) 1.04x, apache-arrow's reader of the 33 IPC batches costing more
 * than the rechunk it saves.
 */
const MAX_JOINED_CHUNKS = 4;

/** Where a batch's IPC bytes are gathered for polars, reused (polars copies them in). */
let scratch = Buffer.allocUnsafe(0);

/** `backing`: where the batch lies as IPC bytes, when the caller knows (an OwnedBatch's). */
export function batchToDataFrame(batch: RecordBatch, backing?: Backing): pl.DataFrame {
  conversions.count++;
  // A batch polars wrote into a slab: it reads its own bytes there (it copies them in), unless
  // they hold what polars must not see as it is (see asPolarsReads).
  if (backing && !polarsReadsAsIs(batch.schema)) backing = undefined;
  if (backing?.format === 'ipc-file') return polars().readIPC(Buffer.from(backing.slab, backing.offset, backing.length));
  if (backing?.format === 'ipc-stream') return polars().readIPCStream(Buffer.from(backing.slab, backing.offset, backing.length));
  // The writer's chunk list (views of the batch) gathered once into warm memory: no
  // concatenated copy from apache-arrow's writer, no fresh allocation per batch.
  const { chunks, byteLength } = encodeBatches([asPolarsReads(batch)]);
  if (scratch.length < byteLength) scratch = Buffer.allocUnsafe(Math.ceil(byteLength * 1.25));
  let at = 0;
  for (const chunk of chunks) {
    scratch.set(chunk, at);
    at += chunk.byteLength;
  }
  return polars().readIPCStream(scratch.subarray(0, byteLength));
}

export function dataFrameToBatches(df: pl.DataFrame): RecordBatch[] {
  conversions.count++;
  df = oneChunk(df);
  // The IPC file format keeps strings as Utf8View: cheaper to write, fastest to read.
  return tableFromIPC(df.writeIPC()).batches;
}

/**
 * The frame in one chunk. polars splits work over its threads, so a filter's or a join's result
 * comes in several chunks (a 55 k-row batch filtered on 2 cores: 2), and its IPC file then holds
 * one record batch per chunk: the next stage got twice the batches (each a process() call and a
 * conversion of its own), none readable in place (a slab's bytes are one batch's only). One
 * native copy of the columns instead; the rows, their order and their values are the same.
 */
function oneChunk(df: pl.DataFrame): pl.DataFrame {
  return df.nChunks() > 1 ? df.rechunk() : df;
}

/** polars DataFrames are native objects; duck-type them so two copies of the module agree. */
export function isDataFrame(value: unknown): value is pl.DataFrame {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { writeIPCStream?: unknown }).writeIPCStream === 'function' &&
    typeof (value as { height?: unknown }).height === 'number'
  );
}

export interface SlabBatches {
  batches: RecordBatch[];
  /** Holds the slab the batches live in (count 1, taken from the arena). */
  lease: Lease;
  /** IPC bytes written (a size hint for the next frame). */
  bytes: number;
  /** The IPC file's place in the slab, when it holds exactly one batch. */
  backing?: Backing;
}

/**
 * A frame as Arrow record batches that live in a recycled slab: polars writes its IPC file
 * bytes straight into the slab (no fresh buffer per batch, no concatenation) and the
 * batches are views of them. A `thread` stage takes them by reference, 0 bytes copied.
 * Zero rows keep the schema (one empty batch).
 *
 * `oneBatch`: the frame must become exactly one batch (a handed-on frame a stage reads). A frame
 * of a few chunks is then written as it is and its batches joined in a second slab
 * (batch/concat-batches.ts), not rechunked by polars into fresh memory first; a frame of many
 * chunks, or with a column of a type that join does not take, is rechunked as before.
 */
export function dataFrameToSlab(df: pl.DataFrame, arena: SlabArena, sizeHint = 0, oneBatch = false): SlabBatches {
  conversions.count++;
  const chunks = oneBatch ? df.nChunks() : 1;
  if (chunks > 1 && chunks <= MAX_JOINED_CHUNKS) {
    const written = writeToSlab(df, arena, sizeHint);
    const table = tableFromIPC(new Uint8Array(written.slab, SLAB_HEADER, written.bytes));
    const joined = table.batches.length > 1 ? concatBatches(table.batches, arena) : undefined;
    if (joined) return { batches: [joined.batch], lease: leaseOf([written.slab, joined.slab]), bytes: written.bytes };
    if (table.batches.length === 1) return { batches: table.batches, lease: leaseOf([written.slab]), bytes: written.bytes, backing: { format: 'ipc-file', slab: written.slab, offset: SLAB_HEADER, length: written.bytes } };
    release(written.slab);
  }
  const { slab, bytes } = writeToSlab(oneChunk(df), arena, sizeHint);
  const table = tableFromIPC(new Uint8Array(slab, SLAB_HEADER, bytes));
  const batches = table.batches.length ? table.batches : [new RecordBatch(table.schema)];
  const backing: Backing | undefined = table.batches.length === 1 ? { format: 'ipc-file', slab, offset: SLAB_HEADER, length: bytes } : undefined;
  return { batches, lease: leaseOf([slab]), bytes, backing };
}

/** `df` as an IPC file in a slab of `arena` (count 1: the caller's), from SLAB_HEADER on. */
function writeToSlab(df: pl.DataFrame, arena: SlabArena, sizeHint: number): { slab: SharedArrayBuffer; bytes: number } {
  let slab = arena.acquire(Math.max(sizeHint, 64 * 1024));
  let at = SLAB_HEADER;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (at + chunk.length > slab.byteLength) {
        // Outgrew the guess: move what is written to a slab twice the size needed.
        const bigger = arena.acquire(2 * (at + chunk.length));
        new Uint8Array(bigger, SLAB_HEADER, at - SLAB_HEADER).set(new Uint8Array(slab, SLAB_HEADER, at - SLAB_HEADER));
        release(slab);
        slab = bigger;
      }
      new Uint8Array(slab, at, chunk.length).set(chunk);
      at += chunk.length;
      done();
    },
  });
  // polars calls write() synchronously, once per piece of the IPC file.
  df.writeIPC(sink);
  return { slab, bytes: at - SLAB_HEADER };
}
