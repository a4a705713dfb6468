/**
 * A Parquet UUID column (FIXED_LEN_BYTE_ARRAY(16), UUID logical type) into every sink: polars
 * 0.24.1 reads it as 16 bare bytes (sinks wrote base64); sluice reads it as the UUID's
 * canonical text (src/io/parquet/uuid.ts). Written by DuckDB (`uuid()`) and by pyarrow (its
 * arrow.uuid extension in the stored Arrow schema; and without the schema), each run into all
 * four sinks at once, in-process; every output read back by DuckDB (apache-arrow for the Arrow
 * file) and compared with DuckDB's own reading of the input, nulls included.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import type { PipelineConfig } from '../../src/config/types';
import { buildPlan } from '../../src/plan/build';
import { runPlan } from '../../src/runtime/run';
import { duckRows } from '../helpers/duckdb';
import { workspace, type Workspace } from '../helpers/workspace';

const FIXTURES = path.resolve(__dirname, '../fixtures/data/parquet');
const SINKS = ['csv', 'ndjson', 'parquet', 'arrow'] as const;
const log = pino({ level: 'silent' });

let ws: Workspace;
beforeAll(() => (ws = workspace('sluice-uuid-')));
afterAll(() => ws.cleanup());

/** Each sink's `v` column as text, in `id` order, read by another reader than sluice. */
async function outputs(out: string): Promise<Record<string, (string | null)[]>> {
  const text = (rows: Record<string, unknown>[]) => rows.map((r) => (r.v === null ? null : String(r.v)));
  const arrow = tableFromIPC(readFileSync(path.join(out, 'o.arrow')));
  return {
    csv: text(await duckRows(`SELECT v FROM read_csv('${path.join(out, 'o.csv')}', all_varchar = true) ORDER BY id::INT`)),
    ndjson: text(await duckRows(`SELECT v FROM read_json('${path.join(out, 'o.ndjson')}', columns = {id: 'INT', v: 'VARCHAR'}) ORDER BY id`)),
    parquet: text(await duckRows(`SELECT v FROM read_parquet('${path.join(out, 'o.parquet')}') ORDER BY id`)),
    arrow: Array.from({ length: arrow.numRows }, (_, i) => arrow.get(i)!.toJSON()).sort((a, b) => Number(a.id) - Number(b.id)).map((r) => (r.v === null ? null : String(r.v))),
  };
}

async function run(name: string, input: string): Promise<Record<string, (string | null)[]>> {
  const out = path.join(ws.dir, name);
  const cfg: PipelineConfig = {
    name: `uuid-${name}`,
    source: { format: 'parquet', path: input, batchRows: 100 },
    stages: [],
    sinks: SINKS.map((format) => ({ name: format, format, path: path.join(out, `o.${format}`) })),
  } as PipelineConfig;
  const checked = checkConfig(cfg, '', ws.dir);
  const report = await runPlan(buildPlan(checked.config, checked), { log });
  expect(report.ok).toBe(true);
  return outputs(out);
}

it.each([
  ['DuckDB (uuid(), 300 rows over 3 row groups, every 7th null)', 'duckdb'],
  ['pyarrow, the arrow.uuid extension in its stored Arrow schema', 'read-uuid'],
  ['pyarrow, no Arrow schema stored', 'read-uuid-bare'],
])('written by %s: every sink holds the UUIDs as DuckDB reads them, lowercase 8-4-4-4-12', async (_by, name) => {
  let input = path.join(FIXTURES, `${name}.parquet`);
  if (name === 'duckdb') {
    input = path.join(ws.dir, 'duck-uuid.parquet');
    await duckRows(`COPY (SELECT i::INT AS id, CASE WHEN i % 7 = 0 THEN NULL ELSE uuid() END AS v FROM range(300) t(i)) TO '${input}' (FORMAT parquet, ROW_GROUP_SIZE 100)`);
  }
  const expected = (await duckRows(`SELECT v::VARCHAR AS v FROM read_parquet('${input}') ORDER BY id`)).map((r) => r.v as string | null);
  expect(expected.some((v) => v === null)).toBe(true);
  for (const v of expected) if (v !== null) expect(v).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const got = await run(name, input);
  for (const format of SINKS) expect([format, got[format]]).toEqual([format, expected]);
});
