/**
 * The Arrow sink's file is the format's file: the magic, then the whole streaming format
 * (schema first, dictionaries, batches, end-of-stream), then the footer. apache-arrow's own file
 * writer leaves the schema message out (src/io/sinks/writers/arrow.ts). Read by polars (a
 * decoder of its own): as a stream past the magic, and by its footer; and by apache-arrow.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Decimal, Dictionary, Field, Int32, List, Table, Utf8, makeData, makeVector, tableFromArrays, tableFromIPC, vectorFromArray, type RecordBatch, type Vector } from 'apache-arrow';
import pl from 'nodejs-polars';
import { openSink } from '../../../../src/io/sinks';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-arrow-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('opens front to back as a stream (schema first) and by its footer, with every row', async () => {
  const file = path.join(dir, 'out.arrow');
  const sink = await openSink({ format: 'arrow', path: file });
  const parts = [0, 1].map(
    (p) =>
      new Table({
        id: vectorFromArray(Int32Array.from([p * 2, p * 2 + 1])),
        city: vectorFromArray(['Lyon', p ? 'Oslo' : 'Lyon'], new Utf8()),
        x: vectorFromArray(Float64Array.from([p + 0.5, p + 1.5])),
      }).batches[0],
  );
  for (const [seq, b] of parts.entries()) await sink.write(b, { seq });
  await sink.commit();
  const bytes = readFileSync(file);
  const expected = [
    { id: 0, city: 'Lyon', x: 0.5 },
    { id: 1, city: 'Lyon', x: 1.5 },
    { id: 2, city: 'Lyon', x: 1.5 },
    { id: 3, city: 'Oslo', x: 2.5 },
  ];
  expect(bytes.subarray(0, 6).toString()).toBe('ARROW1');
  expect(pl.readIPCStream(bytes.subarray(8)).toRecords()).toEqual(expected); // fails without the schema message
  expect(pl.readIPC(bytes).toRecords()).toEqual(expected);
  expect(tableFromIPC(bytes).toArray().map((r) => r.toJSON())).toEqual(expected);
});

describe('dictionaries: one per field in a file, so written as their values', () => {
  const write = async (name: string, batches: RecordBatch[]) => {
    const file = path.join(dir, name);
    const sink = await openSink({ format: 'arrow', path: file });
    try {
      for (const [seq, b] of batches.entries()) await sink.write(b, { seq });
      await sink.commit();
    } catch (err) {
      await sink.abort();
      throw err;
    }
    return readFileSync(file);
  };

  it('strings and decimals, a dictionary per batch: every reader opens the file, the values as they were', async () => {
    const decimals = vectorFromArray([Uint32Array.from([125, 0, 0, 0]), Uint32Array.from([250, 0, 0, 0])], new Decimal(2, 4, 128));
    const dictOf = (values: Vector, indices: number[]) =>
      makeVector(makeData({ type: new Dictionary(values.type, new Int32()), length: indices.length, nullCount: 0, data: Int32Array.from(indices), dictionary: values }));
    const parts = [
      new Table({ s: tableFromArrays({ s: ['a', 'b', 'a'] }).getChild('s')!, d: dictOf(decimals, [0, 1, 0]) }).batches[0],
      new Table({ s: tableFromArrays({ s: ['c', null, 'a'] }).getChild('s')!, d: dictOf(decimals.slice(1), [0, 0, 0]) }).batches[0],
    ];
    expect(parts.map((p) => p.dictionaries.size)).toEqual([2, 2]);
    const bytes = await write('dicts.arrow', parts);
    const table = tableFromIPC(bytes);
    expect(table.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(['s: Utf8', 'd: Decimal[4e+2]']);
    expect(table.getChild('s')!.toArray()).toEqual(['a', 'b', 'a', 'c', null, 'a']);
    const df = pl.readIPC(bytes);
    expect(df.getColumn('s').toArray()).toEqual(['a', 'b', 'a', 'c', null, 'a']);
    expect(df.getColumn('d').cast(pl.Float64).toArray()).toEqual([1.25, 2.5, 1.25, 2.5, 2.5, 2.5]);
  });

  it('refuses a dictionary nested in a list that changes between batches, and leaves no file', async () => {
    const listOf = (strings: string[]) => tableFromArrays({ s: strings }).getChild('s')!;
    const nested = (strings: string[]) => {
      const values = listOf(strings);
      const type = new List(new Field('item', values.type, true));
      return new Table({ l: makeVector(makeData({ type, length: 1, nullCount: 0, valueOffsets: Int32Array.from([0, strings.length]), child: values.data[0] })) }).batches[0];
    };
    await expect(write('nested.arrow', [nested(['a', 'b']), nested(['c'])])).rejects.toThrow(/a dictionary nested in a list or struct changes between batches; an Arrow IPC file holds one dictionary per field/);
    expect(readdirSync(dir)).not.toContain('nested.arrow');
  });
});
