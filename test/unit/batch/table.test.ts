/** ctx.table (batch/table.ts): plain JS columns to a Table without apache-arrow's per-value builders. */
import path from 'node:path';
import { Type, vectorFromArray, Int16 } from 'apache-arrow';
import { buildTable } from '../../../src/batch/table';
import { runStage } from '../../../src/testing';

const typeOf = (t: ReturnType<typeof buildTable>, c: string) => String(t.getChild(c)!.type);

describe('ctx.table', () => {
  it('makes strings Utf8 (not a dictionary), numbers Float64, and keeps every value and null', () => {
    const t = buildTable({
      s: ['a', null, 'ünï ✓', undefined, 'x'.repeat(40)],
      n: [1.5, 2, null, -4, 1e300],
      whole: [1, 2, 3, 4, 5],
      b: [true, false, null, true, false],
      big: [1n, null, 9007199254740993n, -2n, 0n],
      d: [new Date(0), null, new Date(Date.UTC(2026, 10, 30)), new Date(1), new Date(2)],
    });
    expect([typeOf(t, 's'), typeOf(t, 'n'), typeOf(t, 'whole'), typeOf(t, 'b'), typeOf(t, 'big'), typeOf(t, 'd')]).toEqual(['Utf8', 'Float64', 'Float64', 'Bool', 'Int64', 'Timestamp<MILLISECOND>']);
    expect(t.getChild('s')!.toArray()).toEqual(['a', null, 'ünï ✓', null, 'x'.repeat(40)]);
    expect([...t.getChild('n')!]).toEqual([1.5, 2, null, -4, 1e300]);
    expect([...t.getChild('b')!]).toEqual([true, false, null, true, false]);
    expect([...t.getChild('big')!]).toEqual([1n, null, 9007199254740993n, -2n, 0n]);
    expect([...t.getChild('d')!]).toEqual([0, null, Date.UTC(2026, 10, 30), 1, 2]);
    expect(t.numRows).toBe(5);
  });

  it('takes typed arrays and Vectors as they are', () => {
    const ints = Int32Array.of(1, 2, 3);
    const v = vectorFromArray([7, 8, 9], new Int16());
    const t = buildTable({ ints, v });
    expect(t.getChild('ints')!.type.typeId).toBe(Type.Int);
    expect(typeOf(t, 'ints')).toBe('Int32');
    expect(t.getChild('ints')!.data[0].values.buffer).toBe(ints.buffer); // no copy
    expect(t.getChild('v')!.data[0]).toBe(v.data[0]);
  });

  it('an empty or all-null column is a string column', () => {
    expect(typeOf(buildTable({ e: [] }), 'e')).toBe('Utf8');
    const t = buildTable({ nulls: [null, undefined], x: [1, 2] });
    expect(typeOf(t, 'nulls')).toBe('Utf8');
    expect(t.getChild('nulls')!.toArray()).toEqual([null, null]);
  });

  it('takes undefined as null in every kind of column (apache-arrow made it NaN, false, or threw)', () => {
    const t = buildTable({
      n: [1, undefined, 3],
      b: [true, undefined, false],
      big: [1n, undefined, 3n],
      d: [new Date(0), undefined, new Date(2)],
      s: ['a', undefined, 'c'],
    });
    for (const c of ['n', 'b', 'big', 'd', 's']) {
      expect({ c, nulls: t.getChild(c)!.nullCount, middle: t.getChild(c)!.get(1) }).toEqual({ c, nulls: 1, middle: null });
    }
    expect([...t.getChild('b')!]).toEqual([true, null, false]);
  });

  it('refuses a value the column cannot hold, naming the column and row, instead of wrapping it', () => {
    expect(() => buildTable({ v: [1n, 2n ** 63n] })).toThrow('ctx.table: column "v" row 1 is a bigint (9223372036854775808), outside Int64 (-2^63 to 2^63 - 1)');
    expect(() => buildTable({ v: [-(2n ** 63n) - 1n] })).toThrow('ctx.table: column "v" row 0 is a bigint (-9223372036854775809), outside Int64');
    expect([...buildTable({ v: [2n ** 63n - 1n, -(2n ** 63n)] }).getChild('v')!]).toEqual([2n ** 63n - 1n, -(2n ** 63n)]);
    expect(() => buildTable({ when: [new Date(0), null, new Date('x')] })).toThrow('ctx.table: column "when" row 2 is an invalid Date');
  });

  it('says which column and row are wrong', () => {
    expect(() => buildTable({ day: ['a', 'b'], n: [1, 'two'] as never })).toThrow('ctx.table: column "n" mixes numbers and strings (row 1 is a string (two)); one kind per column');
    expect(() => buildTable({ o: [{ a: 1 }] as never })).toThrow('ctx.table: column "o" row 0 is an object (Object); columns hold strings, numbers, booleans, bigints or Dates (or null)');
    expect(() => buildTable({ a: ['x', 'y'], b: [1] })).toThrow('ctx.table: column "b" has 1 values, column "a" 2: every column needs one value per row');
    expect(() => buildTable({ z: 'abc' as never })).toThrow('ctx.table: column "z" is a string (abc); give an array, a typed array or an apache-arrow Vector');
  });

  it.each(['inline', 'thread', 'process'] as const)('is on ctx in a %s stage, and its output crosses to the sink as it is', async (mode) => {
    const out = await runStage(path.resolve(__dirname, '../../fixtures/stages/table-out.ts'), [{ id: 1 }, { id: 2 }], { mode });
    expect(out.rows()).toEqual([
      { s: 'row 1 ✓', n: 1.5, big: 1n },
      { s: null, n: 3, big: 2n },
    ]);
    expect(String(out.batches[0].schema.fields[0].type)).toBe('Utf8');
  }, 60_000);
});
