/**
 * A polars DataFrame handed from one stage to the next one in the same thread (the members of a
 * fused group, plan/fuse.ts) without the round trip through Arrow: a frame written as an IPC file
 * into a slab (≈ 6 ms per 55 k-row batch) and read back by the next stage's `ctx.toDataFrame`
 * (3–6 ms) is the same frame, when its column types survive the trip unchanged.
 *
 * The next stage still gets a RecordBatch: an apache-arrow RecordBatch that stands for the frame
 * and becomes the real one (the slab conversion, as without the hand-off) the first time anything
 * reads its `schema`, `data` or metadata: the stage reading it in JavaScript, a guard, the engine
 * passing it on. `ctx.toDataFrame` of it, read or not, gives (a clone of) the frame itself. So
 * the stage sees the same values either way; what the hand-off saves is conversions nobody reads.
 *
 * Only frames whose every column type is `handsOnAsIs` are handed on: the others (a Categorical,
 * which comes back a String; a Decimal; nested types) take the conversion as before, since it
 * changes them (test/unit/batch/frame-handoff.test.ts holds the list to the conversion's answer).
 */
import { RecordBatch, type Schema } from 'apache-arrow';
import type pl from 'nodejs-polars';
import { undescribable } from './polars-types';

const FRAME = Symbol('sluice.handedFrame');

interface State {
  frame: pl.DataFrame;
  real: boolean;
  bytes?: number;
  /** Makes the real batch now (once). */
  become: () => void;
  /** Called once the stand-in has become real (whenReal). */
  onReal: Set<() => void>;
}

type Standing = RecordBatch & { [FRAME]?: State };

/**
 * In this thread so far: frames handed on, frames a stage took by `ctx.toDataFrame` with no
 * conversion, and stand-ins that had to become real batches (a test hook, and the reclaimer's cue).
 */
export const handoffs = { frames: 0, taken: 0, materialised: 0 };

/**
 * Column types the slab conversion and `batchToDataFrame` give back exactly as they were (the
 * same dtype, the same values): measured for polars 0.24.1 by the unit test, not assumed.
 */
const AS_IS = new Set(['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float32', 'Float64', 'String', 'Date', 'Datetime']);

/** Whether every column of `df` comes back from Arrow as it is (its dtype's variant is in AS_IS). */
export function handsOnAsIs(df: pl.DataFrame): boolean {
  // A type nodejs-polars cannot describe (binary, Int128) is not one of ours, and asking for it
  // would print a Rust panic on stderr (polars-types.ts): looked up without asking.
  if (undescribable(df)) return false;
  try {
    return df.dtypes.every((t) => AS_IS.has(dtypeName(t)));
  } catch {
    // nodejs-polars cannot describe some types (a fixed-size list: "not yet implemented"): not one of ours.
    return false;
  }
}

function dtypeName(t: unknown): string {
  return (t as unknown as { variant: string }).variant;
}

/**
 * A RecordBatch standing for `frame`: `materialise()` makes the real one (it must be a single
 * batch of the frame's rows) the first time its contents are read.
 */
export function standIn(frame: pl.DataFrame, materialise: () => RecordBatch, known?: { schema: Schema }): RecordBatch {
  handoffs.frames++;
  const batch = Object.create(RecordBatch.prototype) as Standing;
  const state: State = { frame, real: false, become: () => become(), onReal: new Set() };
  Object.defineProperty(batch, FRAME, { value: state });
  // A schema known beforehand (a source's: the same conversion of no rows) is read without
  // converting the rows: the source checks it against the first file's.
  if (known) Object.defineProperty(batch, 'schema', { configurable: true, enumerable: true, writable: true, value: known.schema });
  const FIELDS = known ? ['data', '_metadata', '_dictionaries'] : ['schema', 'data', '_metadata', '_dictionaries'];
  const become = (): void => {
    if (state.real) return;
    const real = materialise();
    handoffs.materialised++;
    state.real = true;
    for (const key of [...FIELDS, 'schema']) delete (batch as unknown as Record<string, unknown>)[key];
    for (const key of Reflect.ownKeys(real)) Object.defineProperty(batch, key, Object.getOwnPropertyDescriptor(real, key)!);
    // Whoever put accessors of its own over `schema` or `data` (the left-out guard) puts them back now.
    for (const listener of [...state.onReal]) listener();
    state.onReal.clear();
  };
  // apache-arrow's RecordBatch keeps its contents in these own fields; every getter and method
  // goes through them (numRows is data.length, getChild reads schema and data).
  for (const key of FIELDS) {
    Object.defineProperty(batch, key, {
      configurable: true,
      enumerable: true,
      get: () => {
        become();
        return (batch as unknown as Record<string, unknown>)[key];
      },
      set: (value: unknown) => {
        become();
        (batch as unknown as Record<string, unknown>)[key] = value;
      },
    });
  }
  return batch;
}

/** The frame `batch` stands for (a batch made by standIn), else undefined. */
export function frameOf(batch: RecordBatch): pl.DataFrame | undefined {
  return (batch as Standing)[FRAME]?.frame;
}

/** `batch.numRows` without making a stand-in real (its frame's height). */
export function rowCount(batch: RecordBatch): number {
  return stillAFrame(batch) ? frameOf(batch)!.height : batch.numRows;
}

/**
 * Bytes of `batch`'s Arrow buffers; a stand-in's estimated from its frame without converting it
 * (fixed-width columns at their width, text at its bytes and a 16-byte view per value), so a
 * channel's byte cap counts a handed-on frame about as it would count its batch.
 */
export function bytesOf(batch: RecordBatch): number {
  if (!stillAFrame(batch)) return batch.data.byteLength;
  const state = (batch as Standing)[FRAME]!;
  // Once per stand-in: every owner it passes through (OwnedBatch.moveTo) asks again.
  return (state.bytes ??= estimatedBytes(state.frame));
}

function estimatedBytes(df: pl.DataFrame): number {
  let bytes = 0;
  for (const column of df.getColumns()) {
    const name = dtypeName(column.dtype);
    if (name === 'String') bytes += Number(column.str.lengths().sum() ?? 0) + 16 * column.length;
    else bytes += (WIDTH[name] ?? 8) * column.length;
  }
  return bytes;
}

const WIDTH: Record<string, number> = { Bool: 1, Int8: 1, UInt8: 1, Int16: 2, UInt16: 2, Int32: 4, UInt32: 4, Float32: 4, Date: 4 };

/** Whether `batch` is a stand-in that no one has read yet (its frame was never converted). */
export function stillAFrame(batch: RecordBatch): boolean {
  const state = (batch as Standing)[FRAME];
  return state !== undefined && !state.real;
}

/**
 * Make a stand-in real now (a no-op for any other batch). Not by reading its `schema`: a guard may
 * have put an accessor of its own there (batch/left-out-guard.ts).
 */
export function materialise(batch: RecordBatch): void {
  if (stillAFrame(batch)) (batch as Standing)[FRAME]!.become();
}

/**
 * Call `listener` right after the stand-in `batch` becomes real (its own `schema`, `data` and
 * fields replaced by the real batch's). Returns what unregisters it. Any other batch: never.
 */
export function whenReal(batch: RecordBatch, listener: () => void): () => void {
  const state = (batch as Standing)[FRAME];
  if (!state || state.real) return () => undefined;
  state.onReal.add(listener);
  return () => state.onReal.delete(listener);
}
