/**
 * A DataFrame handed from one stage to the next in the same thread (batch/frame-handoff.ts) is
 * given on as it is only where the Arrow round trip it skips would give the same frame back: the
 * matrix below converts a column of every type polars makes of the type-fidelity batch (and of
 * polars' own types) the way the engine would (into a slab, then `batchToDataFrame` reading the
 * slab's bytes), and every column `handsOnAsIs` accepts must come back with the same dtype and
 * values. The stand-in batch is the real batch to whoever reads it.
 */
import { RecordBatch, tableFromIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { frameOf, handoffs, handsOnAsIs, materialise, standIn, stillAFrame } from '../../../src/batch/frame-handoff';
import { batchToDataFrame, dataFrameToSlab } from '../../../src/batch/polars';
import { SlabArena } from '../../../src/batch/slab';
import { fidelityBatch } from '../../helpers/fidelity-types';

/** Every column polars reads from the fidelity batch, and polars' own types besides. */
function columns(): pl.Series[] {
  const out: pl.Series[] = [];
  const batch = fidelityBatch();
  for (const [i, field] of batch.schema.fields.entries()) {
    let df: pl.DataFrame;
    try {
      df = batchToDataFrame(new RecordBatch({ [field.name]: batch.getChildAt(i)!.data[0] }));
    } catch {
      continue; // a type polars cannot read at all: nothing to hand on
    }
    out.push(df.getColumn(field.name));
  }
  const n = 4;
  out.push(
    pl.Series('cat', ['a', 'b', null, 'a']).cast(pl.Categorical),
    pl.Series('u8', [1, 2, null, 255], pl.UInt8),
    pl.Series('i16', [1, -2, null, 3], pl.Int16),
    pl.Series('f32', [1.5, NaN, null, -0], pl.Float32),
    pl.Series('bool', [true, false, null, true]),
    pl.Series('str', ['x', '', null, 'é'.repeat(20)]),
    pl.Series('date', [new Date(0), new Date(86400000 * 365), null, new Date(-86400000)], pl.Date),
    pl.Series('dt_ms', [new Date(1), new Date(2), null, new Date(-5)], pl.Datetime('ms')),
    pl.Series('dt_us_utc', [new Date(1), new Date(2), null, new Date(3)]).cast(pl.Datetime('us', 'UTC')),
    pl.Series('list', [[1], [2, 3], null, []], pl.List(pl.Int64)),
    pl.Series('nulls', Array.from({ length: n }, () => null)),
  );
  return out;
}

function dtypeOf(c: pl.Series): string {
  try {
    return String(c.dtype);
  } catch {
    return 'a type nodejs-polars cannot describe';
  }
}

function sameColumn(a: pl.Series, b: pl.Series): boolean {
  return a.dtype.equals(b.dtype) && a.len() === b.len() && JSON.stringify(physical(a).toArray(), big) === JSON.stringify(physical(b).toArray(), big);
}
/** Temporal values as their integers (a Date in JSON would hide micro- and nanoseconds). */
const physical = (s: pl.Series) => (['Date', 'Datetime', 'Time', 'Duration'].includes((s.dtype as unknown as { variant: string }).variant) ? s.cast(pl.Int64) : s);
const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

describe('which frames go on as they are', () => {
  const arena = new SlabArena();
  const cols = columns();

  it('covers every type: the fidelity batch and polars\' own', () => {
    expect(cols.length).toBeGreaterThan(20);
    expect(cols.some((c) => handsOnAsIs(pl.DataFrame([c])))).toBe(true);
    expect(cols.some((c) => !handsOnAsIs(pl.DataFrame([c])))).toBe(true);
  });

  it.each(cols.map((c) => [`${c.name}: ${dtypeOf(c)}`, c] as const))('%s: handed on only if the round trip gives it back unchanged', (_name, column) => {
    const df = pl.DataFrame([column]);
    const converted = dataFrameToSlab(df, arena);
    try {
      const back = batchToDataFrame(converted.batches[0], converted.backing).getColumn(column.name);
      if (handsOnAsIs(df)) expect(sameColumn(back, column)).toBe(true);
    } finally {
      converted.lease.release();
    }
  });

  it('a Categorical is not handed on (it comes back a String)', () => {
    expect(handsOnAsIs(pl.DataFrame([pl.Series('c', ['a', 'b']).cast(pl.Categorical)]))).toBe(false);
    expect(handsOnAsIs(pl.DataFrame({ a: [1], s: ['x'] }))).toBe(true);
  });
});

describe('the stand-in batch', () => {
  const df = pl.DataFrame({ id: [1, 2, 3], name: ['a', null, 'c'] });
  const real = () => tableFromIPC(df.writeIPC()).batches[0];

  it('is a RecordBatch that stays a frame until something reads it', () => {
    const before = handoffs.materialised;
    const batch = standIn(df, real);
    expect(RecordBatch.isRecordBatch(batch)).toBe(true);
    expect(batch).toBeInstanceOf(RecordBatch);
    expect(frameOf(batch)).toBe(df);
    expect(stillAFrame(batch)).toBe(true);
    expect(handoffs.materialised).toBe(before);
  });

  it('becomes the real batch on any read: rows, columns, values, once', () => {
    for (const read of [(b: RecordBatch) => b.numRows, (b: RecordBatch) => b.schema.fields.length, (b: RecordBatch) => b.getChild('name')?.get(2), (b: RecordBatch) => b.toArray().length, (b: RecordBatch) => b.data.length, (b: RecordBatch) => b.numCols]) {
      let made = 0;
      const batch = standIn(df, () => (made++, real()));
      read(batch);
      expect(made).toBe(1);
      expect(stillAFrame(batch)).toBe(false);
      expect(batch.numRows).toBe(3);
      expect(batch.getChild('name')!.toArray()).toEqual(['a', null, 'c']);
      expect(batch.getChild('id')!.get(1)).toBe(2);
      expect(made).toBe(1);
      expect(frameOf(batch)).toBe(df); // ctx.toDataFrame still gives the frame itself
    }
  });

  it('materialise() makes it real; a real batch is left alone', () => {
    const batch = standIn(df, real);
    materialise(batch);
    expect(stillAFrame(batch)).toBe(false);
    const plain = real();
    materialise(plain);
    expect(frameOf(plain)).toBeUndefined();
  });
});
