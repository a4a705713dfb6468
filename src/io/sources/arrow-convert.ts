/**
 * polars DataFrame → Arrow record batches of at most `rows` rows, one slice at a time, each
 * born in a recycled slab of this thread (batch/polars.ts): the caller releases the lease.
 */
import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import type pl from 'nodejs-polars';
import { handsOnAsIs, standIn } from '../../batch/frame-handoff';
import { dataFrameToBatches, dataFrameToSlab } from '../../batch/polars';
import type { Backing, Lease } from '../../batch/owned';
import { SlabArena } from '../../batch/slab';

/** A batch a reader made, and the lease on its memory when that is a slab. */
/** What a format reader yields; openSource makes each an OwnedBatch with its file. */
export interface BatchWithLease {
  batch: RecordBatch;
  lease?: Lease;
  /** The batch is exactly this IPC file in the slab (polars wrote it there). */
  backing?: Backing;
}

/** This thread's slabs for source batches (a source thread reuses them as they are released). */
const arena = new SlabArena();
/** Its counters (a source thread reports them: these are the slabs its batches live in). */
export const sourceArenaStats = arena.stats;
/** The last slice's IPC size: the next one is likely the same. */
let lastBytes = 0;

export function* polarsToBatches(df: pl.DataFrame, rows: number): Generator<BatchWithLease> {
  for (let offset = 0; offset < df.height || offset === 0; offset += rows) {
    const part = df.height > rows ? df.slice(offset, rows) : df;
    // writeIPC (file format) keeps strings as Utf8View, which stages read fastest.
    const converted = dataFrameToSlab(part.rechunk(), arena, Math.ceil(lastBytes * 1.1));
    lastBytes = converted.bytes;
    const [first, ...more] = converted.batches;
    if (more.length) throw new Error(`polars wrote ${converted.batches.length} record batches for one slice; expected one`);
    yield { batch: first, lease: converted.lease, backing: converted.backing };
    if (df.height === 0) return;
  }
}

/**
 * The same slices, each a stand-in for its batch (batch/frame-handoff.ts): the frame itself for a
 * stage that takes it by `ctx.toDataFrame`, converted only if something reads it in Arrow (then
 * in ordinary memory, as `ctx.fromDataFrame` gives). Measured on the issue-28 job (3 M flights):
 * the conversion into a slab and the stage's read back were 1.4 s of the main thread's 4 s. A
 * frame with a type the conversion changes (handsOnAsIs), or no rows, is converted as before.
 */
export function* polarsToStandIns(df: pl.DataFrame, rows: number): Generator<BatchWithLease> {
  if (df.height === 0 || !handsOnAsIs(df)) {
    yield* polarsToBatches(df, rows);
    return;
  }
  // The schema of the conversion, from a conversion of no rows: the source compares it across files.
  const schema = tableFromIPC(df.head(0).writeIPC()).schema;
  for (let offset = 0; offset < df.height; offset += rows) {
    const part = df.height > rows ? df.slice(offset, rows) : df;
    yield { batch: standIn(part, () => dataFrameToBatches(part)[0], { schema }) };
  }
}
