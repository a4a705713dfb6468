/**
 * Parquet input that must not go wrong quietly: types polars 0.24.1 aborts the process on
 * are refused from the footer (file and column named), a file replaced or changed during
 * the read is never mixed, projection/schema keys must exist, Hive columns are added.
 */
import { appendFileSync, mkdirSync, mkdtempSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pl from 'nodejs-polars';
import { openSource, type SourceOptions } from '../../../../src/io/sources';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-parquet-in-'));
const FIXTURES = path.resolve(__dirname, '../../../fixtures/data/parquet');

async function readAll(opts: Partial<SourceOptions> & { path: string }) {
  const source = await openSource({ format: 'parquet', batchRows: 1000, ...opts });
  const rows: Record<string, unknown>[] = [];
  for await (const { batch } of source.batches()) rows.push(...batch.toArray().map((r) => r.toJSON()));
  return rows;
}

async function groupsFile(file: string, from: number, n: number) {
  const arrow = `${file}.arrow`;
  pl.DataFrame({ id: Array.from({ length: n }, (_, i) => from + i) }).writeIPC(arrow);
  await pl.scanIPC(arrow).sinkParquet(file, { rowGroupSize: 100 }).collect();
}

beforeAll(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  for (const [name, sql] of [
    ['interval', 'SELECT 1::INT AS id, INTERVAL 3 DAY AS v'],
    ['map', "SELECT 1::INT AS id, MAP {'a': 1} AS v"],
    ['struct-map', "SELECT 1::INT AS id, {'m': MAP {'a': 1}} AS v"],
    ['list-map', "SELECT 1::INT AS id, [MAP {'a': 1}] AS v"],
    ['uuid', "SELECT i::INT AS id, CASE i WHEN 2 THEN NULL ELSE ('0123abcd-ef01-4000-8000-00000000000' || i::VARCHAR)::UUID END AS v FROM range(1, 4) t(i)"],
    ['list-uuid', "SELECT 1::INT AS id, ['0123abcd-ef01-4000-8000-000000000001'::UUID] AS v"],
    ['struct-uuid', "SELECT 1::INT AS id, {'u': '0123abcd-ef01-4000-8000-000000000001'::UUID} AS v"],
  ]) {
    await c.run(`COPY (${sql}) TO '${path.join(dir, `duckdb-${name}.parquet`)}' (FORMAT parquet)`);
  }
  c.closeSync();
});

describe('types polars cannot read', () => {
  it.each([
    ['duckdb-interval', dir, /column "v" is an INTERVAL/],
    ['duckdb-map', dir, /column "v" is a MAP without the MAP logical type/],
    ['duckdb-struct-map', dir, /column "v\.m" is a MAP/],
    ['duckdb-list-map', dir, /column "v\.[a-z_.]+" is a MAP/],
    ['duckdb-list-uuid', dir, /column "v\.[a-z_.]+" is a UUID inside a list or struct/],
    ['duckdb-struct-uuid', dir, /column "v\.u" is a UUID inside a list or struct/],
    ['refuse-float16-bare', FIXTURES, /column "v" is a FLOAT16 \(half precision\) with no Arrow schema/],
    ['refuse-json', FIXTURES, /column "v" is of the Arrow extension type arrow\.json/],
    ['refuse-decimal256', FIXTURES, /column "v" is a decimal of 40 digits/],
    ['refuse-decimal32', FIXTURES, /column "v" is a 32-bit decimal/],
    ['refuse-list-view', FIXTURES, /ARROW:schema.*ListView/],
  ])('%s is refused before polars sees it, file and column named', async (name, where, message) => {
    const file = path.join(where, `${name}.parquet`);
    const err = await readAll({ path: file }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(message);
  });

  it.each([
    ['read-map', [{ key: 'a', value: 1n }]],
    ['read-struct-map', { m: [{ key: 'a', value: 1n }] }],
    ['read-int96', new Date('2026-01-01T01:02:03.456Z').getTime() + 0.789],
    ['read-float16', 1.5],
    ['read-fixed-binary', new Uint8Array([97, 98, 99, 100])],
  ])('%s is read', async (name, first) => {
    const rows = await readAll({ path: path.join(FIXTURES, `${name}.parquet`) });
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(JSON.parse(JSON.stringify(rows[0].v, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)))).toEqual(JSON.parse(JSON.stringify(first, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))));
  });
});

// polars reads a Parquet UUID as 16 bare bytes: sluice reads it as its canonical text (parquet/uuid.ts).
it.each([
  ['pyarrow, its Arrow schema stored (the arrow.uuid extension)', FIXTURES, 'read-uuid', ['00000000-0000-0000-0000-000000000001', null, '00000000-0000-0000-0000-000000000002']],
  ['pyarrow, no Arrow schema', FIXTURES, 'read-uuid-bare', ['00000000-0000-0000-0000-000000000001', null, '0123abcd-ef01-4000-8000-00000000ffff']],
  ['DuckDB', dir, 'duckdb-uuid', ['0123abcd-ef01-4000-8000-000000000001', null, '0123abcd-ef01-4000-8000-000000000003']],
])('a UUID column written by %s is read as its text, lowercase 8-4-4-4-12', async (_by, where, name, expected) => {
  const rows = await readAll({ path: path.join(where, `${name}.parquet`) });
  expect(rows.map((r) => r.v)).toEqual(expected);
});

describe('an input that changes during the read', () => {
  it('a file replaced (mv) after the footer is read is still read as planned, never mixed', async () => {
    const file = path.join(dir, 'mv.parquet');
    await groupsFile(file, 0, 500);
    await groupsFile(path.join(dir, 'new.parquet'), 1000, 500);
    const source = await openSource({ format: 'parquet', path: file, batchRows: 1000 });
    const ids: number[] = [];
    for await (const { batch } of source.batches()) {
      if (ids.length === 0) renameSync(path.join(dir, 'new.parquet'), file);
      ids.push(...[...batch.getChild('id')!].map(Number));
    }
    expect(ids).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('a file changed in place during the read is an error naming it', async () => {
    const file = path.join(dir, 'append.parquet');
    await groupsFile(file, 0, 500);
    const source = await openSource({ format: 'parquet', path: file, batchRows: 1000 });
    const run = async () => {
      for await (const _ of source.batches()) appendFileSync(file, 'more');
    };
    await expect(run()).rejects.toThrow(`${file}: changed while being read`);
  });
});

describe('columns', () => {
  const file = path.join(dir, 'cols.parquet');
  beforeAll(() => pl.DataFrame({ a: [1], b: ['x'] }).writeParquet(file));

  it.each([
    [{ columns: ['a', 'nope'] }, /source\.columns names "nope", not a column of this file \(columns: a, b\)/],
    [{ schema: { zzz: 'utf8' as const } }, /source\.schema names "zzz", not a column of this file \(columns: a, b\)/],
  ])('a key naming no column is an error naming key, file and columns (%j)', async (extra, message) => {
    const err = await readAll({ path: file, ...extra }).catch((e: Error) => e);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses source.schema (types are applied to CSV only) instead of ignoring it', async () => {
    await expect(readAll({ path: file, schema: { a: 'utf8' } })).rejects.toThrow(`${file}: source.schema sets column types for CSV input only; Parquet input keeps`);
  });

  it('adds Hive partition columns of the path as text, projectable like any column', async () => {
    const leaf = path.join(dir, 'hive', 'day=2026-11-24', 'channel=web%2Fapp');
    mkdirSync(leaf, { recursive: true });
    pl.DataFrame({ n: [1, 2] }).writeParquet(path.join(leaf, 'part-00000.parquet'));
    const glob = path.join(dir, 'hive', '**', '*.parquet');
    expect(await readAll({ path: glob })).toEqual([
      { n: 1, day: '2026-11-24', channel: 'web/app' },
      { n: 2, day: '2026-11-24', channel: 'web/app' },
    ]);
    expect(await readAll({ path: glob, columns: ['channel', 'n'] })).toEqual([
      { channel: 'web/app', n: 1 },
      { channel: 'web/app', n: 2 },
    ]);
  });
});
