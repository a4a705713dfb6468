/**
 * Inputs through the CLI: a Parquet type polars would abort the process on is refused
 * with file and column named; an empty CSV is an error naming it; sluice's own partitioned
 * output read back gets its Hive columns (checked with DuckDB). Failures leave nothing.
 */
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { REPO, runCli } from '../helpers/cli';
import { workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
let db: DuckDBConnection;
beforeAll(async () => {
  ws = workspace('sluice-inputs-');
  db = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => {
  db.closeSync();
  ws.cleanup();
});

const job = (name: string, source: Record<string, unknown>, sink: Record<string, unknown> = { format: 'parquet', path: `out/${name}.parquet` }, stages: unknown[] = []) =>
  ws.config({ name, source: { batchRows: 100, ...source }, stages, sink }, `${name}.config.ts`);
const inline = [{ name: 'pass', module: path.join(REPO, 'src/worker/passthrough.ts'), mode: 'inline' }];

it('refuses a Parquet INTERVAL column before polars aborts, naming file and column, leaving nothing', async () => {
  const file = path.join(ws.dir, 'interval.parquet');
  await db.run(`COPY (SELECT range::INT AS id, INTERVAL (range) DAY AS v FROM range(5)) TO '${file}' (FORMAT parquet)`);
  // with an inline stage the source reads on its own thread: an abort there kills the process too
  const r = await runCli(['run', job('interval', { format: 'parquet', path: 'interval.parquet' }, undefined, inline)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${file}: column "v" is an INTERVAL, which polars 0.24.1 cannot read`);
  expect(r.stderr).not.toContain('panicked');
  expect(ws.outFiles()).toEqual([]);
  expect(readdirSync(ws.dir).filter((f) => f.includes('sluice-tmp'))).toEqual([]);
});

it('an empty CSV is an error naming the file, not a Parquet file without columns', async () => {
  writeFileSync(path.join(ws.dir, 'empty.csv'), '');
  const r = await runCli(['run', job('empty', { format: 'csv', path: 'empty.csv' })]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${path.join(ws.dir, 'empty.csv')}: empty file: no header`);
  expect(ws.outFiles()).toEqual([]);
});

it("reads its own partitioned Parquet output back with the Hive columns, as text", async () => {
  const rows = Array.from({ length: 40 }, (_, i) => `${i},2026-11-${20 + (i % 3)},${['web', 'shop/app'][i % 2]}`);
  writeFileSync(path.join(ws.dir, 'events.csv'), ['n,day,channel', ...rows].join('\n') + '\n');
  const write = await runCli(['run', job('split', { format: 'csv', path: 'events.csv' }, { format: 'parquet', path: 'out/parts', partitionBy: ['day', 'channel'] })]);
  expect(write.code).toBe(0);
  const read = await runCli(['run', job('back', { format: 'parquet', path: 'out/parts/**/*.parquet' })]);
  expect(read.stderr).not.toMatch(/error/i);
  expect(read.code).toBe(0);
  const back = path.join(ws.dir, 'out/back.parquet');
  const types = (await db.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${back}'))`)).getRows();
  expect(types).toEqual([
    ['n', 'BIGINT'],
    ['day', 'VARCHAR'],
    ['channel', 'VARCHAR'],
  ]);
  const got = (await db.runAndReadAll(`SELECT n::INT, day, channel FROM read_parquet('${back}') ORDER BY n`)).getRows();
  expect(got).toEqual(rows.map((r) => r.split(',')).map(([n, day, channel]) => [Number(n), day, channel]));
});

it('a ** glob beside a "latest" symlink reads each day once (rows counted by DuckDB); a symlink loop is refused naming it', async () => {
  for (const [day, ids] of [['2026-11-29', '1\n2\n'], ['2026-11-30', '3\n4\n5\n']] as const) {
    mkdirSync(path.join(ws.dir, 'days', day), { recursive: true });
    writeFileSync(path.join(ws.dir, 'days', day, 'part.csv'), `id\n${ids}`);
  }
  symlinkSync('2026-11-30', path.join(ws.dir, 'days', 'latest'));
  const r = await runCli(['run', job('days', { format: 'csv', path: 'days/**/*.csv' }), '--quiet']);
  expect(r.code).toBe(0);
  const out = path.join(ws.dir, 'out', 'days.parquet');
  const rows = await (await db.runAndReadAll(`SELECT count(*)::INT AS n, sum(id)::INT AS s FROM '${out}'`)).getRowObjectsJson();
  expect(rows).toEqual([{ n: 5, s: 15 }]);

  symlinkSync('..', path.join(ws.dir, 'days', '2026-11-29', 'up'));
  const loop = await runCli(['validate', job('loop', { format: 'csv', path: 'days/**/*.csv' })]);
  expect(loop.code).toBe(1);
  expect(loop.stderr).toContain(`"days/**/*.csv" goes round a symlink loop: ${path.join(ws.dir, 'days', '2026-11-29', 'up')} -> ${path.join(ws.dir, 'days')}`);
});
