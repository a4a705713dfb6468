/**
 * polars 0.24.1 read a null Arrow map as an empty list: a stage's DataFrame and the Parquet
 * sink turned null into [] without a word. Maps (at any depth) reach polars as the lists of
 * entries it reads them as, nulls kept. Checked in the DataFrame and in the Parquet file, read
 * back by DuckDB.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Field, Int32, List, Map_, Struct, Table, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { batchToDataFrame } from '../../../src/batch/polars';
import { openSink } from '../../../src/io/sinks';
import { duckRows } from '../../helpers/duckdb';

const entries = () => new Field('entries', new Struct([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]), false);
const mapType = () => new Map_(entries());
const m = (o: Record<string, number | null> | null) => (o === null ? null : new Map(Object.entries(o)));

function batch(): RecordBatch {
  const maps = [m({ a: 1, b: null }), null, m({}), null];
  return new Table({
    id: vectorFromArray([0, 1, 2, 3], new Int32()),
    map: vectorFromArray(maps as never, mapType()),
    list_map: vectorFromArray([[m({ x: 1 }), null], null, [], [null]] as never, new List(new Field('item', mapType(), true))),
    struct_map: vectorFromArray([{ m: m({ y: 2 }) }, { m: null }, null, { m: m({}) }] as never, new Struct([new Field('m', mapType(), true)])),
  }).batches[0];
}

const expected = {
  map: [[{ key: 'a', value: 1 }, { key: 'b', value: null }], null, [], null],
  list_map: [[[{ key: 'x', value: 1 }], null], null, [], [null]],
};

it('a DataFrame of a batch with maps keeps every null map, at any depth', () => {
  const df = batchToDataFrame(batch());
  for (const [column, values] of Object.entries(expected)) expect({ column, values: df.getColumn(column).toArray() }).toEqual({ column, values });
  // a null struct shows as its fields in toArray: its own null is read from the validity
  expect(df.getColumn('struct_map').isNull().toArray()).toEqual([false, false, true, false]);
  expect(df.getColumn('struct_map').struct.field('m').toArray()).toEqual([[{ key: 'y', value: 2 }], null, null, []]);
});

it('the Parquet sink writes null maps as null (DuckDB reads the file)', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'sluice-map-')), 'out.parquet');
  const sink = await openSink({ format: 'parquet', path: file });
  try {
    await sink.write(batch(), { seq: 0 });
    await sink.commit();
  } catch (err) {
    await sink.abort();
    throw err;
  }
  const rows = await duckRows(`SELECT map IS NULL AS map, list_map IS NULL AS list_map, struct_map IS NULL AS struct_map, struct_map.m IS NULL AS struct_map_m, len(map) AS n, list_map[2] IS NULL AS inner FROM '${file}' ORDER BY id`);
  expect(rows).toEqual([
    { map: false, list_map: false, struct_map: false, struct_map_m: false, n: '2', inner: true },
    { map: true, list_map: true, struct_map: false, struct_map_m: true, n: null, inner: true },
    { map: false, list_map: false, struct_map: true, struct_map_m: true, n: '0', inner: true },
    { map: true, list_map: false, struct_map: false, struct_map_m: false, n: null, inner: true },
  ]);
});
