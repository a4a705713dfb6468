/**
 * Fusion of parsing into a stage's copy: when the source hands this copy a chunk of CSV text
 * instead of a batch (plan.parseIn), the copy parses it here, on its own thread, and the stage
 * runs on the result: the frame polars parsed, as a batch standing for it (converted into a slab
 * of this copy only if something reads it in Arrow). A value that does not fit its column's type
 * is the source's error (file, line, column), as when the source parses.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Backing, Lease } from '../batch/owned';
import type { SlabArena } from '../batch/slab';
import type pl from 'nodejs-polars';
import { dataFrameToSlab } from '../batch/polars';
import { handsOnAsIs, standIn } from '../batch/frame-handoff';
import { isCsvChunk, readCsvChunk } from '../csv/item';
import type { HostInput } from './host';

export interface ParsedInput {
  input: HostInput;
  /** Holds the slab the parsed batch lies in, once it is one (count 1); the output retains what it passes on. */
  lease: Lease;
  rows: number;
}

/** polars' IPC bytes of the last chunk: the next slab's size guess. */
let lastBytes = 0;

/** The parsed chunk when `batches` is a CSV chunk item, else undefined (a batch of rows). */
export function parseIfChunk(batches: readonly RecordBatch[], arena: SlabArena): ParsedInput | undefined {
  if (!isCsvChunk(batches)) return undefined;
  // Loaded on first use (it loads polars): a copy that is never handed text does not pay for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see above
  const { parseChunk } = require('../csv/parse') as typeof import('../csv/parse');
  const chunk = readCsvChunk(batches[0]);
  const df = parseChunk(chunk, chunk.parse);
  // The frame itself for a first stage that takes it by ctx.toDataFrame (batch/frame-handoff.ts):
  // no IPC file written into a slab and read back (≈ 40–60 ms of a 65 k-row batch). Converted, as
  // before, the first time anything reads it as Arrow; a type the conversion changes, or no rows, at once.
  // In one chunk: polars' CSV reader cuts a 65 k-row chunk into ~33 pieces, and a stage's
  // filter of them keeps as many, too many to join cheaply when a JavaScript stage reads the
  // result (dataFrameToSlab's oneBatch); from one chunk a filter leaves two, joined in a slab.
  if (df.height > 0 && handsOnAsIs(df)) return standInFor(df.rechunk(), arena);
  const converted = toSlab(df, arena);
  const backing: Backing | undefined = converted.backing;
  return { input: { batches: converted.batches, backing }, lease: converted.lease, rows: df.height };
}

function toSlab(df: pl.DataFrame, arena: SlabArena): ReturnType<typeof dataFrameToSlab> {
  const converted = dataFrameToSlab(df.rechunk(), arena, Math.ceil(lastBytes * 1.1));
  lastBytes = converted.bytes;
  return converted;
}

/** A batch standing for the parsed frame; its slab, if it is ever made, held by the returned lease. */
function standInFor(df: pl.DataFrame, arena: SlabArena): ParsedInput {
  let slab: Lease | undefined;
  let released = false;
  const batch = standIn(df, () => {
    // The task holds the lease until its output is packed: a read after is a bug of ours.
    if (released) throw new Error('internal: a parsed chunk was read as a batch after its task gave up its hold');
    const converted = toSlab(df, arena);
    slab = converted.lease;
    if (converted.batches.length !== 1) throw new Error(`internal: a parsed chunk became ${converted.batches.length} batches`);
    return converted.batches[0];
  });
  const lease: Lease = {
    release: () => {
      released = true;
      slab?.release();
    },
  };
  return { input: { batches: [batch] }, lease, rows: df.height };
}
