/**
 * A dictionary column reaches polars as its values (batch/dictionaries.ts): apache-arrow's
 * `tableFromArrays` makes Dictionary<Int32, Utf8> of strings, polars read it as Categorical, and a
 * newcomer's join with a plain String table failed ("datatypes of join keys don't match"), as did
 * concatenating two batches' frames. Every way a batch becomes a DataFrame: from the batch, and
 * from its IPC bytes in place (a process child's frame, `backing`); and the Parquet sink's encoder,
 * read back by DuckDB. The decoding itself: nulls, slices, non-ASCII, other index widths.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Dictionary, Int16, Int32, Table, Uint8, Utf8, makeData, makeVector, tableFromArrays, tableToIPC, vectorFromArray, type RecordBatch } from 'apache-arrow';
import pl from 'nodejs-polars';
import { dictionariesAsValues } from '../../../src/batch/dictionaries';
import { batchToDataFrame } from '../../../src/batch/polars';
import { stringsOf } from '../../../src/batch/strings';
import { openSink } from '../../../src/io/sinks';
import { duckRows } from '../../helpers/duckdb';

const values = ['AAA', null, 'ÉÉÉ', 'BBB', 'AAA', '', null, 'CCC'];
const airports = pl.DataFrame({ origin: ['AAA', 'BBB', 'ÉÉÉ', ''], state: ['CA', 'NY', 'QC', 'empty'] });
const states = ['CA', null, 'QC', 'NY', 'CA', 'empty', null, null];

/** What the newcomer's stage returns: `tableFromArrays` of JS strings (a dictionary per call). */
const newcomers = (strings: (string | null)[] = values): RecordBatch => tableFromArrays({ origin: strings, n: Float64Array.from(strings, (_, i) => i) }).batches[0];

it('tableFromArrays makes a dictionary (the trap this guards against)', () => {
  expect(String(newcomers().schema.fields[0].type)).toBe('Dictionary<Int32, Utf8>');
});

it('a batch with a dictionary column becomes a DataFrame with plain strings that join, compare and concatenate', () => {
  const df = batchToDataFrame(newcomers());
  expect(String(df.getColumn('origin').dtype)).toBe('DataType(String)');
  expect(df.getColumn('origin').toArray()).toEqual(values);
  expect(df.join(airports, { on: 'origin', how: 'left' }).getColumn('state').toArray()).toEqual(states);
  expect(df.filter(pl.col('origin').eq(pl.lit('AAA'))).height).toBe(2);
  // Another batch, another dictionary (other values, another order): one column type across both.
  const other = batchToDataFrame(newcomers(['ZZZ', 'AAA']));
  expect(pl.concat([df, other]).groupBy('origin').len().sort('origin').getColumn('origin').toArray()).toEqual([null, '', 'AAA', 'BBB', 'CCC', 'ZZZ', 'ÉÉÉ']);
});

it('read in place from its IPC bytes (a process child\'s frame), the dictionary still reaches polars as strings', () => {
  const batch = newcomers();
  const bytes = tableToIPC(new Table([batch]), 'stream');
  const slab = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(slab).set(bytes);
  const df = batchToDataFrame(batch, { format: 'ipc-stream', slab, offset: 0, length: bytes.byteLength });
  expect(String(df.getColumn('origin').dtype)).toBe('DataType(String)');
  expect(df.join(airports, { on: 'origin', how: 'left' }).getColumn('state').toArray()).toEqual(states);
});

it('decodes dictionaries of every index width, sliced, with nulls, as their values', () => {
  const dictionary = vectorFromArray(['x', 'ÿé', 'zzzz'], new Utf8());
  for (const [type, indices] of [
    [new Int32(), Int32Array.from([2, 0, 1, 1, 0, 2])],
    [new Int16(), Int16Array.from([2, 0, 1, 1, 0, 2])],
    [new Uint8(), Uint8Array.from([2, 0, 1, 1, 0, 2])],
  ] as const) {
    const nullBitmap = Uint8Array.from([0b111011]); // row 2 null
    const vector = makeVector(makeData({ type: new Dictionary(new Utf8(), type), length: 6, nullCount: 1, nullBitmap, data: indices, dictionary }));
    const batch = new Table({ s: vector }).batches[0];
    for (const b of [batch, batch.slice(1, 5), batch.slice(3, 6)]) {
      const decoded = dictionariesAsValues(b);
      expect(String(decoded.schema.fields[0].type)).toBe('Utf8');
      expect(stringsOf(decoded.getChildAt(0)!)).toEqual(stringsOf(b.getChildAt(0)!));
    }
  }
});

it('the Parquet sink writes a dictionary column of many batches as its values, as strings (DuckDB and polars read the file)', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'sluice-dict-')), 'out.parquet');
  const sink = await openSink({ format: 'parquet', path: file });
  try {
    await sink.write(newcomers(), { seq: 0 });
    await sink.write(newcomers(['ZZZ', 'AAA']), { seq: 1 });
    await sink.commit();
  } catch (err) {
    await sink.abort();
    throw err;
  }
  const rows = await duckRows(`SELECT origin, typeof(origin) AS type FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`);
  expect(rows.map((r) => r.origin)).toEqual([...values, 'ZZZ', 'AAA']);
  expect(new Set(rows.map((r) => r.type))).toEqual(new Set(['VARCHAR']));
  // Written as strings, not as polars' Categorical (which polars reads back as Categorical).
  expect(String(pl.readParquet(file).getColumn('origin').dtype)).toBe('DataType(String)');
});
