/**
 * A rejected row's `values` in the dead-letter output are the input row's values, unchanged,
 * for the types a `values` JSON once changed without a word (a Decimal was written as its
 * unscaled integer: 50.0 as "500"; a timestamp as its milliseconds): DECIMAL (scale 1 and
 * DECIMAL(38, 10)), BIGINT beyond 2^53, TIMESTAMP, TIMESTAMPTZ, DATE, DOUBLE. The input is
 * Parquet written by DuckDB; in thread mode at concurrency 2 one stage `ctx.reject`s a row and
 * the next throws on another row (the engine bisects its batch to it); DuckDB reads the
 * dead-letter NDJSON back and its values must equal DuckDB's own reading of those input rows.
 * One in-process run serves every assertion.
 */
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import type { PipelineConfig } from '../../src/config/types';
import { buildPlan } from '../../src/plan/build';
import { runPlan } from '../../src/runtime/run';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

const REJECT_ID = 3;
const THROW_ID = 17;
/** The input's columns and the type each is read back as from the dead-letter JSON. */
const COLUMNS: [string, string][] = [
  ['id', 'INTEGER'],
  ['half', 'DECIMAL(18,1)'],
  ['cents', 'DECIMAL(12,2)'],
  ['big', 'BIGINT'],
  ['ts', 'TIMESTAMP'],
  ['tstz', 'TIMESTAMPTZ'],
  ['day', 'DATE'],
  ['dbl', 'DOUBLE'],
];

let ws: Workspace;
beforeAll(() => (ws = workspace('sluice-dl-values-')));
afterAll(() => ws.cleanup());

it('stage rejects and bisected throws (thread, concurrency 2) write the input values, read back by DuckDB', async () => {
  const input = path.join(ws.dir, 'in.parquet');
  await duckRows(`SET TimeZone = 'UTC'`);
  await duckRows(
    `COPY (SELECT i::INTEGER AS id, i * 0.5 AS half, CAST(-(i + 0.99) AS DECIMAL(12,2)) AS cents, 9007199254740993 + i AS big,
        TIMESTAMP '2026-12-06 23:50:01.123456' + i * INTERVAL 1 DAY AS ts, TIMESTAMPTZ '2026-12-06 23:50:01.654321+00' + i * INTERVAL 1 HOUR AS tstz,
        DATE '1969-12-31' + i AS day, i / 3 AS dbl,
        ('-1234567890123456789012345678.123456789' || i)::DECIMAL(38,10) AS d38
      FROM (SELECT n::INTEGER AS i FROM range(40) t(n))) TO '${input}' (FORMAT parquet, ROW_GROUP_SIZE 40)`,
  );
  const out = path.join(ws.dir, 'out');
  const stage = (name: string, options: Record<string, unknown>) => ({ name, module: path.join(FIXTURE_STAGES, 'refuse-or-throw.ts'), mode: 'thread' as const, concurrency: 2, options, onError: 'dead-letter' as const });
  const config: PipelineConfig = {
    name: 'dl-values',
    source: { format: 'parquet', path: input, batchRows: 10 },
    stages: [stage('refuser', { rejectIds: [REJECT_ID] }), stage('thrower', { throwIds: [THROW_ID] })],
    sink: { format: 'parquet', path: path.join(out, 'clean.parquet') },
    deadLetter: { format: 'ndjson', path: path.join(out, 'rejects.ndjson') },
  };
  const checked = checkConfig(config, '', ws.dir);
  const report = await runPlan(buildPlan(checked.config, checked), { log: pino({ level: 'silent' }) });
  expect(report.rejected?.rows).toBe(2);

  // Each column of the dead-letter row read by DuckDB's JSON reader as the input column's type;
  // d38's 38 digits from the text itself (DuckDB's JSON reader holds a number as a double).
  const fromJson = COLUMNS.map(([c, type]) => `(v->>'${c}')::${type} AS ${c}`).join(', ');
  const dead = await duckRows(
    `SELECT stage, ${fromJson}, regexp_extract(values, '"d38":(-?[0-9.]+)', 1)::DECIMAL(38,10) AS d38, values
     FROM (SELECT stage, values, values::JSON AS v FROM read_json('${out}/rejects.ndjson')) ORDER BY id`,
  );
  const names = [...COLUMNS.map(([c]) => c), 'd38'].join(', ');
  const expected = await duckRows(`SELECT ${names} FROM read_parquet('${input}') WHERE id IN (${REJECT_ID}, ${THROW_ID}) ORDER BY id`);
  expect(dead.map(({ values: _v, ...r }) => r)).toEqual(expected.map((r, k) => ({ stage: k === 0 ? 'refuser' : 'thrower', ...r })));
  // The reported instance as text: DECIMAL 1.5 (i * 0.5 for i = 3), never its unscaled "15".
  expect(JSON.parse(String(dead[0].values))).toMatchObject({ id: REJECT_ID, half: 1.5, big: String(9007199254740993n + BigInt(REJECT_ID)), ts: '2026-12-09T23:50:01.123456' });
  expect(String(dead[0].values)).toContain('"half":1.5,');
}, 60_000);
