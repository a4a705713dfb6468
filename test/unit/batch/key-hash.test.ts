/**
 * hashKeyRows (batch/key-hash.ts): equal key values hash equal whatever form the column comes
 * in (Utf8, LargeUtf8, Utf8View, a dictionary; whole or sliced), 0 and -0 and every NaN meet,
 * a null hashes to one value in every type, the hash is fixed (no seed: the same in every
 * thread, process and run), and a missing or unhashable key column is refused by name.
 */
import { Dictionary, Float32, Float64, Int32, Int64, LargeUtf8, List, Field, Table, Utf8, tableFromIPC, vectorFromArray, type RecordBatch, type Vector } from 'apache-arrow';
import pl from 'nodejs-polars';
import { hashKeyRows } from '../../../src/batch/key-hash';

const VALUES = ['a', 'bb', null, 'a longer string than twelve bytes ✓', '', 'a', 'ü'];
const batchOf = (columns: Record<string, Vector>): RecordBatch => new Table(columns).batches[0];

describe('strings hash by their bytes, whatever the column type', () => {
  const utf8 = batchOf({ k: vectorFromArray(VALUES, new Utf8()) });
  const large = batchOf({ k: vectorFromArray(VALUES, new LargeUtf8()) });
  const dict = batchOf({ k: vectorFromArray(VALUES, new Dictionary(new Utf8(), new Int32())) });
  const view = tableFromIPC(pl.DataFrame({ k: VALUES }).writeIPC()).batches[0];
  const expected = [...hashKeyRows(utf8, ['k'])];

  it('Utf8View (as polars gives it) is really a view column here', () => expect(String(view.schema.fields[0].type)).toMatch(/View/i));
  it.each([
    ['LargeUtf8', large],
    ['Utf8View', view],
    ['Dictionary<Utf8>', dict],
  ])('%s hashes as Utf8', (_t, batch) => expect([...hashKeyRows(batch, ['k'])]).toEqual(expected));
  it('equal values equal, different values different (here)', () => {
    expect(expected[0]).toBe(expected[5]);
    expect(new Set(expected).size).toBe(6);
  });
  it('a slice hashes its rows as the whole batch does', () => expect([...hashKeyRows(utf8.slice(2, 6), ['k'])]).toEqual(expected.slice(2, 6)));
});

it('is a fixed function of the values (no seed): the same numbers in every thread, process and run', () => {
  const b = batchOf({ s: vectorFromArray(['a', 'day-2026-11-24'], new Utf8()), n: vectorFromArray([1, 2], new Int32()) });
  expect([...hashKeyRows(b, ['s'])]).toEqual([444641715, 1271067029]);
  expect([...hashKeyRows(b, ['s', 'n'])]).toEqual([320650895, 1465894957]);
});

it('0 and -0 hash equal, and every NaN hashes the same (float64 and float32)', () => {
  for (const type of [new Float64(), new Float32()]) {
    const b = batchOf({ f: vectorFromArray([0, -0, NaN, -NaN, 1.5], type) });
    const h = [...hashKeyRows(b, ['f'])];
    expect(h[0]).toBe(h[1]);
    expect(h[2]).toBe(h[3]);
    expect(new Set(h).size).toBe(3);
  }
});

it('a null hashes to one value, whatever the column type', () => {
  const b = batchOf({
    s: vectorFromArray([null, 'x'], new Utf8()),
    i: vectorFromArray([null, 1], new Int32()),
    l: vectorFromArray([null, 1n], new Int64()),
    f: vectorFromArray([null, 1], new Float64()),
  });
  const nulls = ['s', 'i', 'l', 'f'].map((c) => hashKeyRows(b, [c])[0]);
  expect(new Set(nulls).size).toBe(1);
});

it('several key columns: the rows equal on all of them hash equal', () => {
  const b = batchOf({ day: vectorFromArray(['d1', 'd1', 'd2', 'd1'], new Utf8()), n: vectorFromArray([1, 2, 1, 1], new Int32()) });
  const h = [...hashKeyRows(b, ['day', 'n'])];
  expect(h[0]).toBe(h[3]);
  expect(new Set(h).size).toBe(3);
});

it('refuses a key column the batch does not have, naming it and the columns there are', () => {
  const b = batchOf({ day: vectorFromArray(['d1'], new Utf8()) });
  expect(() => hashKeyRows(b, ['dya'])).toThrow('key column "dya" is not in the batch (its columns: day)');
});

it('refuses a nested key column, naming it and its type', () => {
  const b = batchOf({ l: vectorFromArray([[1]], new List(new Field('item', new Int32(), true))) });
  expect(() => hashKeyRows(b, ['l'])).toThrow(/key column "l" is of type List.*cannot hash/);
});
