/** Fixture batches from rows/columns, rows back out of batches, and the value rules of comparisons. */
import { DateDay, Int32, Table, vectorFromArray } from 'apache-arrow';
import { batchFromColumns, batchFromRows, rowsOf, sameValue } from 'sluice/testing';

const types = (b: ReturnType<typeof batchFromRows>) => Object.fromEntries(b.schema.fields.map((f) => [f.name, String(f.type)]));

describe('batchFromRows / batchFromColumns', () => {
  it('infers what a CSV source would give: Int64 for integers, Float64 for fractions, Utf8, Bool, timestamps for Dates', () => {
    const b = batchFromRows([
      { id: 1, x: 1, name: 'a', ok: true, at: new Date('2026-11-24T10:00:00Z') },
      { id: 2, x: 2.5, name: null, ok: false },
    ]);
    expect(types(b)).toEqual({ id: 'Int64', x: 'Float64', name: 'Utf8', ok: 'Bool', at: 'Timestamp<MILLISECOND>' });
    expect(rowsOf(b)).toEqual([
      { id: 1n, x: 1, name: 'a', ok: true, at: new Date('2026-11-24T10:00:00Z') },
      { id: 2n, x: 2.5, name: null, ok: false, at: null },
    ]);
  });

  it('takes declared types by the names of a source schema, dates from ISO text', () => {
    const b = batchFromRows([{ id: 7, day: '2026-11-24', big: '9007199254740993' }], { id: 'int32', day: 'date', big: 'int64' });
    expect(types(b)).toEqual({ id: 'Int32', day: 'Date32<DAY>', big: 'Int64' });
    expect(rowsOf(b)).toEqual([{ id: 7, day: new Date('2026-11-24T00:00:00Z'), big: 9007199254740993n }]);
  });

  it('says which column is wrong, and how to fix it', () => {
    expect(() => batchFromRows([{ v: 1 }, { v: 'one' }])).toThrow(`column "v" mixes int and string values; declare its type (e.g. { v: 'utf8' })`);
    expect(() => batchFromRows([{ day: 'soon' }], { day: 'date' })).toThrow(/column "day": cannot build Date32<DAY> .*"soon" is not a date/);
    expect(() => batchFromRows([{ a: 1 }], { a: 'int128' as never })).toThrow('column "a": unknown type "int128"');
    expect(() => batchFromColumns({ a: [1, 2], b: [1] })).toThrow('columns differ in length (a: 2, b: 1)');
  });

  it('columns in order of first appearance, a missing key is null', () => {
    const b = batchFromRows([{ a: 1 }, { b: 'x', a: 2 }]);
    expect(b.schema.fields.map((f) => f.name)).toEqual(['a', 'b']);
    expect(rowsOf(b)).toEqual([{ a: 1n, b: null }, { a: 2n, b: 'x' }]);
    expect(rowsOf(batchFromColumns({ a: [1, 2] }, { a: 'float32' }))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('rowsOf reads Tables and arrays of batches, dictionaries and 64-bit values', () => {
    const t = new Table({ n: vectorFromArray([1, 2], new Int32()), s: vectorFromArray(['x', 'y']), d: vectorFromArray([new Date(Date.UTC(2026, 0, 2))], new DateDay()) });
    expect(rowsOf(t)).toEqual([
      { n: 1, s: 'x', d: new Date('2026-01-02') },
      { n: 2, s: 'y', d: null },
    ]);
    expect(rowsOf([batchFromRows([{ a: 1 }]), batchFromRows([{ a: 2 }])])).toEqual([{ a: 1n }, { a: 2n }]);
  });
});

describe('sameValue (expected, received)', () => {
  it.each([
    [3, 3n, true],
    [3n, 3, true],
    [3.5, 3n, false],
    ['3', 3n, false],
    ['3', 3, false],
    [NaN, NaN, true],
    [null, null, true],
    [0, null, false],
    ['2026-11-24', new Date('2026-11-24T00:00:00Z'), true],
    ['2026-11-24 10:00:00', new Date('2026-11-24T10:00:00Z'), true], // naive: UTC, as the CSV source reads it
    ['2026-11-24T11:00:00+01:00', new Date('2026-11-24T10:00:00Z'), true],
    ['2026-11-25', new Date('2026-11-24T00:00:00Z'), false],
    [Date.UTC(2026, 10, 24), new Date('2026-11-24T00:00:00Z'), true],
    ['tomorrow', new Date('2026-11-24T00:00:00Z'), false],
    [new Date('2026-11-24'), '2026-11-24', false], // a Date expected, text received: the stage gave the wrong type
    [[1, 2], [1n, 2n], true],
    [{ a: 1 }, { a: 1n }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
  ])('%p vs %p → %p', (expected, received, same) => {
    expect(sameValue(expected, received)).toBe(same);
  });
});
