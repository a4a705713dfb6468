/**
 * takeRows (batch/take.ts), what keyed routing cuts batches with: the rows picked, in the order
 * asked, with exactly the schema they had (every type the engine carries, nulls, dictionaries,
 * nested children), from whole batches and from slices (whose bit buffers are read from their offset).
 */
import { Float64, Int32, RecordBatch, Table, Utf8, tableFromIPC, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import '../../../src/batch/arrow-names'; // an empty column name reads back empty, as in the engine
import { takeRows } from '../../../src/batch/take';
import { normalise } from '../../helpers/arrow-types';
import { fidelityBatch } from '../../helpers/fidelity-types';
import { allTypesBatch } from '../../helpers/arrow-types';

function expectTaken(batch: RecordBatch, idx: number[]): void {
  const taken = takeRows(batch, Uint32Array.from(idx));
  expect(taken.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(batch.schema.fields.map((f) => `${f.name}: ${f.type}`));
  expect(taken.numRows).toBe(idx.length);
  for (const field of batch.schema.fields) {
    const got = taken.getChild(field.name)! as Vector;
    const from = batch.getChild(field.name)! as Vector;
    const values = Array.from({ length: idx.length }, (_, j) => normalise(got.get(j)));
    const expected = idx.map((i) => normalise(from.get(i)));
    expect({ column: field.name, values }).toEqual({ column: field.name, values: expected });
    expect({ column: field.name, nulls: got.nullCount }).toEqual({ column: field.name, nulls: expected.filter((v) => v === null).length });
  }
}

const picks = (rows: number) => ({
  reversed: Array.from({ length: rows }, (_, i) => rows - 1 - i),
  'every third': Array.from({ length: Math.ceil(rows / 3) }, (_, i) => i * 3),
  one: [rows - 1],
  none: [],
  repeated: [0, 0, 1, 0],
});

describe.each([
  ['every type', () => allTypesBatch(20)],
  ['the type-fidelity batch', () => fidelityBatch()],
  ['a slice (offset 3)', () => allTypesBatch(24).slice(3, 20)],
  ['a slice of the fidelity batch (offset 1)', () => fidelityBatch().slice(1, 6)],
])('takeRows of %s', (_what, make) => {
  const batch = make();
  it.each(Object.entries(picks(batch.numRows)))('%s', (_how, idx) => expectTaken(batch, idx));
});

it('keeps a dictionary column a dictionary with its dictionary (no trip through another type)', () => {
  const batch = allTypesBatch(9);
  const taken = takeRows(batch, Uint32Array.of(8, 2));
  expect(String(taken.getChild('dict')!.type)).toBe(String(batch.getChild('dict')!.type));
  expect(taken.getChild('dict')!.data[0].dictionary).toBe(batch.getChild('dict')!.data[0].dictionary);
});

it('copies the rows: the taken batch does not change when the source buffers are overwritten', () => {
  const t = new Table({ n: vectorFromArray([1, 2, 3], new Int32()), s: vectorFromArray(['a', 'bb', 'ccc'], new Utf8()), f: vectorFromArray([0.5, 1.5, 2.5], new Float64()) });
  const batch = t.batches[0];
  const taken = takeRows(batch, Uint32Array.of(2, 0));
  (batch.getChild('n')!.data[0].values as Int32Array).fill(0);
  (batch.getChild('s')!.data[0].values as Uint8Array).fill(0);
  expect(taken.toArray().map((r) => r.toJSON())).toEqual([
    { n: 3, s: 'ccc', f: 2.5 },
    { n: 1, s: 'a', f: 0.5 },
  ]);
});

it('gives batches that cross to a copy as they are: the Arrow IPC of a taken slice reads back equal', () => {
  for (const batch of [allTypesBatch(24).slice(3, 20), fidelityBatch().slice(1, 6)]) {
    const taken = takeRows(batch, Uint32Array.of(4, 1, 0, 3));
    const back = tableFromIPC(tableToIPC(new Table([taken]), 'stream')).batches[0];
    expect(back.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(taken.schema.fields.map((f) => `${f.name}: ${f.type}`));
    taken.schema.fields.forEach((f, c) => {
      const rows = (v: Vector) => Array.from({ length: v.length }, (_, i) => normalise(v.get(i)));
      expect({ column: f.name, values: rows(back.getChildAt(c)!) }).toEqual({ column: f.name, values: rows(taken.getChildAt(c)!) });
    });
  }
});
