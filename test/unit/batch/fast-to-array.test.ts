/**
 * `toArray()` on string columns through batch/strings.ts (batch/fast-to-array.ts): value for
 * value what apache-arrow's own gives, on every string layout (Utf8, LargeUtf8, Utf8View from
 * polars, dictionaries), sliced, multi-chunk, empty, with nulls and non-ASCII text; every other
 * type is left to apache-arrow; and stage code gets it in every mode.
 */
import path from 'node:path';
import { Dictionary, Int16, LargeUtf8, Table, Utf8, makeData, tableFromIPC, vectorFromArray, type Vector } from 'apache-arrow';
import pl from 'nodejs-polars';
import { arrowIterator, arrowToArray, installFastStringToArray } from '../../../src/batch/fast-to-array';
import { stringsOf } from '../../../src/batch/strings';
import { allTypesBatch } from '../../helpers/arrow-types';
import { runStage } from '../../../src/testing';

const values = ['', 'a', 'ascii only', 'ünïcödé ✓', '😀 four-byte', 'exactly12byt', 'a string longer than twelve bytes', null, 'x'.repeat(200), null, 'AB', 'é'];

function layouts(): Record<string, Vector> {
  const utf8 = vectorFromArray(values, new Utf8());
  return {
    utf8,
    largeUtf8: vectorFromArray(values, new LargeUtf8()),
    utf8View: tableFromIPC(pl.DataFrame({ s: values }).writeIPC()).getChild('s')!,
    polarsLarge: tableFromIPC(pl.DataFrame({ s: values }).writeIPCStream()).getChild('s')!,
    dictionary: vectorFromArray(values, new Dictionary(new Utf8(), new Int16())),
    inferred: vectorFromArray(values), // Dictionary<Int32, Utf8>, as tableFromArrays makes it
    twoChunks: utf8.concat(vectorFromArray(['next', null, 'ü'], new Utf8())),
    sliced: utf8.slice(3, 10),
    slicedView: tableFromIPC(pl.DataFrame({ s: values }).writeIPC()).getChild('s')!.slice(2, 9),
    empty: vectorFromArray([], new Utf8()),
    emptyView: tableFromIPC(pl.DataFrame({ s: pl.Series('s', [], pl.String) }).writeIPC()).getChild('s')!,
  };
}

// The wrapper is installed by the stage host: a stage's obvious `toArray()` takes the fast
// path in every mode. First in this file: nothing here has installed it before the inline host.
describe.each(['inline', 'thread', 'process'] as const)('in a %s stage', (mode) => {
  it('toArray() on a string column is the fast one', async () => {
    const module = path.resolve(__dirname, '../../fixtures/stages/to-array-probe.ts');
    const input = tableFromIPC(pl.DataFrame({ s: ['x', null, 'ü'] }).writeIPC()).batches[0];
    const out = await runStage(module, [input], { mode });
    expect(out.rows()).toEqual([{ fast: true }]);
  }, 60_000);
});

/** Nested values are Vectors (a new one per call): compare what they hold. */
const serialise = (x: unknown) => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

describe('fast toArray() on string columns', () => {
  beforeAll(installFastStringToArray);

  it.each(Object.keys(layouts()))('gives what apache-arrow gives: %s', (name) => {
    const v = layouts()[name];
    const mine = v.toArray();
    const theirs = arrowToArray.call(v);
    expect(Array.isArray(mine)).toBe(true);
    expect(mine).toEqual(theirs);
    expect(mine).toEqual(stringsOf(v)); // and it is the fast path that answered
    expect([...v]).toEqual([...arrowIterator.call(v)]); // for … of, likewise
  });

  it('leaves every other type to apache-arrow (the same typed arrays, the same values)', () => {
    const batch = allTypesBatch(9);
    for (const field of batch.schema.fields) {
      const v = batch.getChild(field.name)!;
      const mine = v.toArray() as unknown;
      const theirs = arrowToArray.call(v);
      expect(Object.prototype.toString.call(mine)).toBe(Object.prototype.toString.call(theirs));
      expect([field.name, serialise(mine)]).toEqual([field.name, serialise(theirs)]);
      expect([field.name, serialise([...v])]).toEqual([field.name, serialise([...arrowIterator.call(v)])]);
    }
  });

  it('is installed once, however many hosts load (no wrapper around a wrapper)', () => {
    const once = Object.getPrototypeOf(vectorFromArray(['a'], new Utf8())).toArray;
    installFastStringToArray();
    installFastStringToArray();
    expect(Object.getPrototypeOf(vectorFromArray(['a'], new Utf8())).toArray).toBe(once);
  });

  it('a Utf8 column built by hand with nulls in a bitmap', () => {
    const v = vectorFromArray(['a', 'b', 'c'], new Utf8());
    const data = v.data[0];
    const withNull = makeData({ type: new Utf8(), length: 3, nullCount: 1, nullBitmap: Uint8Array.of(0b101), valueOffsets: data.valueOffsets, data: data.values });
    const w = new Table({ s: vectorFromArray(withNull as never) }).getChild('s')!;
    expect(w.toArray()).toEqual(['a', null, 'c']);
  });
});
