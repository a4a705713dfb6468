/**
 * Issue 26: when nothing fails, the survival machinery pays nothing per row. A stage with
 * `onError: 'dead-letter'`, `retries` and `timeout`, behind a source with `onError:
 * 'dead-letter'`, is handed exactly the batches it gets with all of them off: the same columns
 * and types, no schema metadata, the same rows per batch. What a rejected row needs (its file
 * and line, its row number) is found when it is rejected, never carried on every batch.
 */
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import type { PipelineConfig } from '../../src/config/types';
import { buildPlan } from '../../src/plan/build';
import { runPlan } from '../../src/runtime/run';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

const log = pino({ level: 'silent' });
let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-nothing-extra-');
  writeNumbersCsv(path.join(ws.dir, 'a.csv'), 2500);
  writeNumbersCsv(path.join(ws.dir, 'b.csv'), 1700);
});
afterAll(() => ws.cleanup());

type Mode = 'inline' | 'thread' | 'process';

function config(out: string, mode: Mode, on: boolean): PipelineConfig {
  const recovery = mode === 'inline' ? { timeout: '60s' } : { retries: 2, timeout: '60s' };
  return {
    name: 'nothing-extra',
    source: { format: 'csv', path: '*.csv', batchRows: 1000, ...(on && { onError: 'dead-letter' as const }) },
    stages: [{ name: 'seen', module: path.join(FIXTURE_STAGES, 'schema-seen.ts'), mode, ...(on && { onError: 'dead-letter' as const, ...recovery }) }],
    sink: { format: 'parquet', path: path.join(out, 'seen.parquet') },
    ...(on && { deadLetter: { format: 'ndjson', path: path.join(out, 'rejects.ndjson') } }),
  };
}

async function seen(mode: Mode, on: boolean): Promise<Record<string, unknown>[]> {
  const out = path.join(ws.dir, `${mode}-${on ? 'on' : 'off'}`);
  const checked = checkConfig(config(out, mode, on), '', ws.dir);
  const report = await runPlan(buildPlan(checked.config, checked), { log });
  expect(report.ok).toBe(true);
  return duckRows(`SELECT columns, metadata, rows FROM read_parquet('${out}/seen.parquet')`);
}

describe.each<Mode>(['inline', 'thread', 'process'])('a %s stage', (mode) => {
  it('is handed the same batches with onError, retries and timeout on as with them off', async () => {
    const off = await seen(mode, false);
    const on = await seen(mode, true);
    // Two files of 2500 and 1700 rows in batches of 1000: 5 batches, none across a file's end.
    expect(off.map((r) => r.rows)).toEqual([1000, 1000, 500, 1000, 700]);
    expect(on).toEqual(off);
    for (const r of on) {
      expect(r.metadata).toBe('');
      expect(String(r.columns).split(',').map((c) => c.split(':')[0])).toEqual(['id', 'name', 'x', 'day']);
    }
  });
});
