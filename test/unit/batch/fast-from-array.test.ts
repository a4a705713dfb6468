/**
 * `tableFromArrays` / `vectorFromArray` of JS strings through batch/fast-from-array.ts: the
 * same vector apache-arrow's own builder makes (type, dictionary in first-seen order, indices,
 * nulls, memoized), on ASCII, non-ASCII, nulls, duplicates, one value and 20,000; anything
 * else is left to apache-arrow; and stage code gets it in every mode. A lone surrogate, which
 * apache-arrow writes as U+FFFD without a word, is refused (batch/strings.ts).
 */
import path from 'node:path';
import { Int32, Table, Utf8, makeData, makeVector, tableFromArrays, tableFromIPC, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import * as arrow from 'apache-arrow';
import { installFastVectorFromArray, originalVectorFromArray, stringDictionary } from '../../../src/batch/fast-from-array';
import { arrowToArray } from '../../../src/batch/fast-to-array';
import { runStage } from '../../../src/testing';

const many = Array.from({ length: 20_000 }, (_, i) => (i % 7 === 0 ? null : `id-${i % 5003}-${'h'.repeat(i % 40)}`));
const inputs: Record<string, unknown[]> = {
  ascii: ['b', 'a', 'b', 'c', 'a', '', ''],
  nonAscii: ['ünïcödé ✓', '😀 four-byte', 'é', 'e', 'é', 'x'.repeat(300)],
  nulls: [null, 'a', null, null, 'b', 'a', null, null, null],
  leadingNulls: [null, null, null, null, null, null, null, null, null, 'only'],
  one: ['one'],
  many,
};
// Arrays the fast path must leave alone: apache-arrow decides (or refuses) as it always did.
const others: Record<string, unknown[]> = {
  allNull: [null, null],
  withUndefined: ['a', undefined, 'b'],
  mixed: ['a', 1],
  numbers: [1, 2.5],
  empty: [],
};

/** Everything about a dictionary vector a reader can see, through apache-arrow's own accessors. */
function anatomy(v: Vector) {
  const data = v.data[0];
  const valid = Array.from({ length: v.length }, (_, i) => v.isValid(i));
  return {
    type: String(v.type),
    indexType: String((v.type as arrow.Dictionary).indices),
    chunks: v.data.length,
    length: v.length,
    nullCount: v.nullCount,
    valid,
    // apache-arrow's builder pads its buffer past the length (to 64 bytes): the values are the first `length`.
    indices: Array.from((data.values as Int32Array).subarray(0, v.length)).map((x, i) => (valid[i] ? x : 'null')),
    dictionary: arrowToArray.call(data.dictionary!),
    values: arrowToArray.call(v),
    got: Array.from({ length: v.length }, (_, i) => v.get(i)),
    // apache-arrow memoizes a dictionary's decoded values (its `memoize()`).
    dictionaryClass: data.dictionary!.constructor.name,
  };
}

/** The table's bytes as Arrow IPC, the dictionary's id left out (a process-wide counter). */
function ipcValues(v: Vector): unknown {
  return tableFromIPC(tableToIPC(new Table({ s: v }))).getChild('s')!.toArray();
}

// The stage host installs it: a stage's obvious `tableFromArrays` takes the fast path in every mode.
// First in this file: nothing here has installed it before the inline host.
describe.each(['inline', 'thread', 'process'] as const)('in a %s stage', (mode) => {
  it('tableFromArrays of strings is the fast one and keeps every value', async () => {
    const module = path.resolve(__dirname, '../../fixtures/stages/from-array-probe.ts');
    const input = tableFromArrays({ s: ['x', null, 'ü', 'x'] }).batches[0];
    const out = await runStage(module, [input], { mode });
    expect(out.rows()).toEqual([
      { s: 'x', fast: true, type: 'Dictionary<Int32, Utf8>' },
      { s: null, fast: true, type: 'Dictionary<Int32, Utf8>' },
      { s: 'ü', fast: true, type: 'Dictionary<Int32, Utf8>' },
      { s: 'x', fast: true, type: 'Dictionary<Int32, Utf8>' },
    ]);
  }, 60_000);
});

describe('a dictionary of strings built in one pass', () => {
  const original = originalVectorFromArray();

  it.each(Object.keys(inputs))('is the vector apache-arrow builds: %s', (name) => {
    const values = inputs[name];
    const mine = stringDictionary(arrow, values)!;
    const theirs = original(values) as Vector;
    expect(mine).toBeDefined();
    expect(anatomy(mine)).toEqual(anatomy(theirs));
    expect(ipcValues(mine)).toEqual(ipcValues(theirs));
  });

  it.each(Object.keys(others))('leaves the rest to apache-arrow: %s', (name) => {
    expect(stringDictionary(arrow, others[name])).toBeUndefined();
  });

  it('leaves to apache-arrow distinct values longer in all than one string can be', () => {
    // They are encoded joined; the bound is V8's longest string (a parameter here, to test it small).
    expect(stringDictionary(arrow, ['abc', 'de', 'abc'], 5)).toBeDefined();
    expect(stringDictionary(arrow, ['abc', 'def', 'abc'], 5)).toBeUndefined();
  });

  it('is what tableFromArrays and vectorFromArray use once installed, for strings only', () => {
    installFastVectorFromArray();
    installFastVectorFromArray(); // twice: wrapped once
    const factories = require('apache-arrow/factories') as { vectorFromArray: Partial<Record<symbol, unknown>> }; // eslint-disable-line @typescript-eslint/no-require-imports -- the module object apache-arrow calls through
    expect(factories.vectorFromArray[Symbol.for('sluice.arrowVectorFromArray')]).toBe(original);
    const table = tableFromArrays({ s: inputs.nulls as (string | null)[], n: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    expect(anatomy(table.getChild('s')!)).toEqual(anatomy(original(inputs.nulls) as Vector));
    expect(String(table.getChild('n')!.type)).toBe('Float64');
    expect(anatomy(vectorFromArray(many as string[]))).toEqual(anatomy(original(many) as Vector));
    // An explicit type is apache-arrow's business.
    expect(String(vectorFromArray(['a', 'b'], new Utf8()).type)).toBe('Utf8');
    expect(() => vectorFromArray(['a', 1] as string[])).toThrow(/Unable to infer Vector type/);
    // A vector in is a vector out, untouched.
    const plain = makeVector(makeData({ type: new Int32(), length: 2, data: new Int32Array([4, 5]) }));
    expect(Array.from(vectorFromArray(plain).toArray() as Int32Array)).toEqual([4, 5]);
  });
});

it('a lone surrogate is refused, where apache-arrow would write U+FFFD in its place', () => {
  const values = ['\ud800', 'a\udc00b', 'ok'];
  expect((originalVectorFromArray()(values) as Vector).toArray()).toEqual(['\ufffd', 'a\ufffdb', 'ok']);
  expect(() => stringDictionary(arrow, values)).toThrow(/^"\\ud800" holds a lone surrogate/);
});
