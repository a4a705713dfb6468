/**
 * What every source does alike with inputs that would otherwise go wrong quietly: a file
 * replaced during the read is read as planned, one truncated or rewritten in place is an
 * error naming it; empty and truncated files are named with what is wrong; projection and
 * schema keys must name a column; Hive columns of the path are added.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordBatchStreamWriter, tableFromArrays, tableToIPC } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { openSource, type SourceOptions } from '../../../../src/io/sources';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-input-checks-'));
const N = 300;
const ids = (from: number) => Array.from({ length: N }, (_, i) => from + i);
const table = (from: number) => tableFromArrays({ id: Int32Array.from(ids(from)) });

type Format = SourceOptions['format'];
const writers: Record<Exclude<Format, 'parquet'>, (file: string, from: number) => void> = {
  csv: (file, from) => writeFileSync(file, ['id', ...ids(from)].join('\n') + '\n'),
  ndjson: (file, from) => writeFileSync(file, ids(from).map((id) => JSON.stringify({ id })).join('\n') + '\n'),
  arrow: (file, from) => writeFileSync(file, RecordBatchStreamWriter.writeAll([...table(from).slice(0, 100).batches, ...table(from).slice(100).batches]).toUint8Array(true)),
};

function source(format: Format, file: string, extra: Partial<SourceOptions> = {}) {
  // small reads and batches: the file is read in several steps
  return openSource({ format, path: file, batchRows: 100, ...extra }, { readSize: 256 });
}

async function readAll(format: Format, file: string, extra: Partial<SourceOptions> = {}) {
  const rows: Record<string, unknown>[] = [];
  for await (const { batch } of (await source(format, file, extra)).batches()) rows.push(...batch.toArray().map((r) => r.toJSON()));
  return rows;
}

describe.each(['csv', 'ndjson', 'arrow'] as const)('%s input changing during the read', (format) => {
  it('replaced by a rename after the read began: read as it was, never mixed', async () => {
    const file = path.join(dir, `mv.${format}`);
    writers[format](file, 0);
    writers[format](`${file}.new`, 1000);
    const seen: number[] = [];
    for await (const { batch } of (await source(format, file)).batches()) {
      if (seen.length === 0) renameSync(`${file}.new`, file);
      seen.push(...[...batch.getChild('id')!].map(Number));
    }
    expect(seen).toEqual(ids(0));
  });

  it('truncated in place after the read began: an error naming the file', async () => {
    const file = path.join(dir, `cut.${format}`);
    writers[format](file, 0);
    // past what the first batch read, at a line end: what is left still parses, so only
    // the identity check can tell
    const text = readFileSync(file, 'latin1');
    const cut = format === 'arrow' ? 600 : text.indexOf('\n', Math.floor((text.length * 2) / 3)) + 1;
    const run = async () => {
      let first = true;
      for await (const _ of (await source(format, file, format === 'csv' ? { inferRows: 10 } : {})).batches()) {
        if (first) truncateSync(file, cut);
        first = false;
      }
    };
    await expect(run()).rejects.toThrow(file);
  });
});

describe('empty and broken files', () => {
  it.each([
    ['csv', 'empty.csv', '', 'empty file: no header'],
    ['csv', 'bom.csv', '\ufeff', 'empty file: no header'],
    ['arrow', 'empty.arrow', '', 'empty file (0 bytes): no Arrow IPC schema'],
    ['ndjson', 'empty.ndjson', '', 'no columns to write: the input file is empty'],
  ] as const)('%s %s is an error naming the file', async (format, name, text, message) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    const err = await readAll(format, file).catch((e: Error) => e);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain(message);
  });

  it('a truncated Arrow IPC file or stream names the file and what is wrong', async () => {
    const whole = tableToIPC(table(0), 'file');
    const cutFile = path.join(dir, 'cut-file.arrow');
    writeFileSync(cutFile, whole.subarray(0, whole.length - 40));
    await expect(readAll('arrow', cutFile)).rejects.toThrow(`${cutFile}: truncated Arrow IPC file (${whole.length - 40} bytes): it starts with ARROW1 but does not end with it`);
    const stream = tableToIPC(table(0), 'stream');
    const cutStream = path.join(dir, 'cut-stream.arrows');
    writeFileSync(cutStream, stream.subarray(0, stream.length - 30));
    await expect(readAll('arrow', cutStream)).rejects.toThrow(`${cutStream}: truncated or corrupt Arrow IPC stream`);
  });

  it('a Parquet file of no rows gives its columns', async () => {
    const file = path.join(dir, 'zero.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`COPY (SELECT 1::INT AS id, 'x' AS s WHERE false) TO '${file}' (FORMAT parquet)`);
    c.closeSync();
    const batches = [];
    for await (const { batch } of (await source('parquet', file)).batches()) batches.push(batch);
    expect(batches.map((b) => [b.numRows, b.schema.fields.map((f) => f.name)])).toEqual([[0, ['id', 's']]]);
  });
});

describe.each(['csv', 'ndjson', 'arrow'] as const)('%s projection and schema keys', (format) => {
  const file = path.join(dir, `keys.${format}`);
  beforeAll(() => writers[format](file, 0));

  it.each([
    ['columns', { columns: ['id', 'nope'] }],
    ['schema', { schema: { nope: 'utf8' as const } }],
  ])('a %s key naming no column is an error naming key, file and columns', async (key, extra) => {
    await expect(readAll(format, file, extra)).rejects.toThrow(`${file}: source.${key} names "nope", not a column of this file (columns: id)`);
  });
});

it.each(['ndjson', 'arrow'] as const)('%s refuses source.schema (types are applied to CSV only) instead of ignoring it', async (format) => {
  const file = path.join(dir, `typed.${format}`);
  writers[format](file, 0);
  await expect(readAll(format, file, { schema: { id: 'utf8' } })).rejects.toThrow(`${file}: source.schema sets column types for CSV input only`);
});

describe.each(['ndjson', 'arrow'] as const)('%s Hive partition columns', (format) => {
  it('are added as text from key=value directories', async () => {
    const leaf = path.join(dir, `hive-${format}`, 'day=2026-11-24', 'channel=__HIVE_DEFAULT_PARTITION__');
    mkdirSync(leaf, { recursive: true });
    writers[format](path.join(leaf, `part.${format}`), 0);
    const rows = await readAll(format, path.join(dir, `hive-${format}`, '**', `*.${format}`));
    expect(rows).toHaveLength(N);
    expect({ ...rows[0], id: Number(rows[0].id) }).toEqual({ id: 0, day: '2026-11-24', channel: null });
  });
});
