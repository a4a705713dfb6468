/**
 * A handed-on frame of several chunks becomes one batch without polars' rechunk
 * (batch/concat-batches.ts): its chunks are written as they are and joined in a slab. The
 * values must be the frame's own, read back by polars from the joined batch and compared with
 * the frame itself, for every type the join takes, with nulls and chunk lengths that are not
 * multiples of 8 (validity and boolean bits at odd positions), and long strings in Utf8View data
 * buffers of several chunks. A frame of many chunks, or with a column the join does not take, is
 * rechunked as before.
 */
import pl from 'nodejs-polars';
import { batchToDataFrame, dataFrameToSlab } from '../../../src/batch/polars';
import { SlabArena } from '../../../src/batch/slab';

const LONG = 'a value longer than twelve bytes, so its view points into a data buffer';

/** `n` rows starting at `from`, every column with a null in a different place. */
function chunk(from: number, n: number): pl.DataFrame {
  const rows = Array.from({ length: n }, (_, k) => from + k);
  const nullEvery = (d: number) => (i: number) => (i % d === 3 ? null : i);
  return pl.DataFrame({
    i32: pl.Series('i32', rows.map(nullEvery(5)), pl.Int32),
    i64: pl.Series('i64', rows.map((i) => i * 1_000_003), pl.Int64),
    u8: pl.Series('u8', rows.map((i) => (i % 7 === 0 ? null : i % 256)), pl.UInt8),
    f64: pl.Series('f64', rows.map((i) => (i % 11 === 0 ? null : i / 3)), pl.Float64),
    f32: pl.Series('f32', rows.map((i) => i / 4), pl.Float32),
    bool: pl.Series('bool', rows.map((i) => (i % 13 === 0 ? null : i % 3 === 0)), pl.Bool),
    short: pl.Series('short', rows.map((i) => (i % 9 === 0 ? null : `s${i}`)), pl.String),
    long: pl.Series('long', rows.map((i) => (i % 6 === 0 ? null : `${LONG} #${i}`)), pl.String),
    day: pl.Series('day', rows.map((i) => new Date(86_400_000 * i)), pl.Date),
    ts: pl.Series('ts', rows.map((i) => (i % 4 === 0 ? null : new Date(1_700_000_000_000 + i))), pl.Datetime('ms')),
  });
}

/** A frame of chunks of these lengths (pl.concat without rechunk keeps them). */
function chunked(lengths: number[]): pl.DataFrame {
  let from = 0;
  const parts = lengths.map((n) => {
    const part = chunk(from, n);
    from += n;
    return part;
  });
  return pl.concat(parts, { rechunk: false, how: 'vertical' });
}

describe('a frame of several chunks as one batch', () => {
  it('joins the chunks in a slab instead of rechunking, with the frame’s exact values and types', () => {
    const df = chunked([13, 3, 250, 7]); // edges at 13 (mid-byte), 16 (on a byte) and 266
    expect(df.nChunks()).toBeGreaterThan(1);
    const arena = new SlabArena();
    const out = dataFrameToSlab(df, arena, 0, true);
    expect(out.batches).toHaveLength(1);
    // Joined, not rechunked: the batch is not one IPC file polars wrote (no backing), and its
    // fixed-width values lie in another slab than the long strings' data the IPC file holds.
    expect(out.backing).toBeUndefined();
    const values = out.batches[0].getChild('i64')!.data[0].values.buffer;
    const strings = out.batches[0].getChild('long')!.data[0].variadicBuffers.map((b) => b.buffer);
    expect(strings.length).toBeGreaterThan(1);
    expect(strings.every((b) => b !== values && b === strings[0])).toBe(true);
    const back = batchToDataFrame(out.batches[0]);
    expect(back.dtypes.map(String)).toEqual(df.dtypes.map(String));
    expect(back.frameEqual(df, true)).toBe(true);
    expect(back.toRecords()).toEqual(df.toRecords());
    out.lease.release();
    expect(arena.live).toBe(0);
  });

  it('moves each long string’s buffer index past the data buffers of the chunks before it', () => {
    const df = chunked([40, 40, 40]);
    const arena = new SlabArena();
    const out = dataFrameToSlab(df, arena, 0, true);
    const strings = out.batches[0].getChild('long')!.toArray() as (string | null)[];
    expect(strings).toEqual(df.getColumn('long').toArray());
    out.lease.release();
  });

  it('rechunks as before a frame of more chunks than it joins', () => {
    const df = chunked([10, 10, 10, 10, 10, 10]);
    const out = dataFrameToSlab(df, new SlabArena(), 0, true);
    expect(out.batches).toHaveLength(1);
    expect(out.backing).toBeDefined(); // rechunked by polars: one IPC file, one batch
    expect(batchToDataFrame(out.batches[0]).frameEqual(df, true)).toBe(true);
    out.lease.release();
  });

  it('rechunks as before when a column is of a type the join does not take', () => {
    const df = pl.concat([pl.DataFrame({ l: pl.Series('l', [[1], [2, 3]], pl.List(pl.Int64)), i: [1, 2] }), pl.DataFrame({ l: pl.Series('l', [null, []], pl.List(pl.Int64)), i: [3, 4] })], { rechunk: false, how: 'vertical' });
    expect(df.nChunks()).toBeGreaterThan(1);
    const arena = new SlabArena();
    const out = dataFrameToSlab(df, arena, 0, true);
    expect(out.batches).toHaveLength(1);
    expect(out.backing).toBeDefined(); // rechunked by polars: one IPC file, one batch
    expect(Array.from(out.batches[0].getChild('i')!.toArray() as ArrayLike<number>, Number)).toEqual([1, 2, 3, 4]);
    out.lease.release();
    expect(arena.live).toBe(0);
  });

});
