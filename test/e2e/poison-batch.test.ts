/**
 * A batch that kills its copy on every attempt (a poison batch), with `retries` and
 * `onError: 'dead-letter' | 'skip'`: a new copy takes the dead one's place, the batch's rows are
 * rejected whole (never bisected: each part would kill a copy again) with a reason naming the
 * death and the attempts, and every other row reaches the sink (read back by DuckDB). With
 * `onError: 'fail'` or without retries the death still ends the run, naming stage and batch.
 */
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import type { PipelineConfig } from '../../src/config/types';
import { buildPlan } from '../../src/plan/build';
import { runPlan } from '../../src/runtime/run';
import type { RunReport } from '../../src/runtime/types';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

const ROWS = 3000;
const BATCH = 1000;
/** The first id of the batch that kills its copy every time: the second batch. */
const POISON = 1000;
const log = pino({ level: 'silent' });

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-poison-');
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), ROWS);
});
afterAll(() => ws.cleanup());

type Mode = 'thread' | 'process';

function config(name: string, mode: Mode, onError: 'fail' | 'skip' | 'dead-letter', retries: number): PipelineConfig {
  const out = path.join(ws.dir, name);
  return {
    name: 'poison',
    source: { format: 'csv', path: 'in.csv', batchRows: BATCH },
    stages: [{ name: 'poisoned', module: path.join(FIXTURE_STAGES, 'fault-once.ts'), mode, concurrency: 2, retries, onError, options: { firstId: POISON, how: 'exit', always: true, marker: path.join(ws.dir, `${name}.marker`) } }],
    sink: { format: 'parquet', path: path.join(out, 'clean.parquet') },
    ...(onError === 'dead-letter' && { deadLetter: { format: 'ndjson', path: path.join(out, 'rejects.ndjson') } }),
  };
}

const run = (cfg: PipelineConfig): Promise<RunReport> => {
  const checked = checkConfig(cfg, '', ws.dir);
  return runPlan(buildPlan(checked.config, checked), { log });
};

describe.each<Mode>(['thread', 'process'])('%s stage, a batch that kills its copy every time', (mode) => {
  it('dead-letter: the batch is rejected whole, the copy replaced, every other row written', async () => {
    const name = `dead-${mode}`;
    const report = await run(config(name, mode, 'dead-letter', 1));
    const ids = (await duckRows(`SELECT id FROM read_parquet('${ws.dir}/${name}/clean.parquet') ORDER BY id`)).map((r) => Number(r.id));
    expect(ids).toEqual(Array.from({ length: ROWS }, (_, i) => i).filter((i) => i < POISON || i >= POISON + BATCH));
    const rejects = await duckRows(`SELECT stage, "row", batch, reason FROM read_json('${ws.dir}/${name}/rejects.ndjson') ORDER BY "row"`);
    expect(rejects).toHaveLength(BATCH);
    expect(rejects[0]).toMatchObject({ stage: 'poisoned', row: String(POISON + 1) });
    for (const r of rejects) expect(String(r.reason)).toMatch(/exited with code 7.*killed its copy on each of 2 attempts/);
    expect(report.rejected?.rows).toBe(BATCH);
    expect(report.sink.rows + report.rejected!.rows).toBe(ROWS);
  }, 120_000);

  it('skip: the same rows are counted and dropped', async () => {
    const report = await run(config(`skip-${mode}`, mode, 'skip', 1));
    expect(report.rejected).toMatchObject({ rows: BATCH, counts: [{ place: 'poisoned', action: 'skip', rows: BATCH }] });
    expect(report.sink.rows).toBe(ROWS - BATCH);
  }, 120_000);

  it.each([
    ['fail', 1],
    ['dead-letter', 0],
  ] as const)('onError %s, retries %i: the death ends the run, naming stage and batch', async (onError, retries) => {
    await expect(run(config(`ends-${mode}-${onError}-${retries}`, mode, onError, retries))).rejects.toThrow(/stage "poisoned".*batch #1.*exited with code 7/);
  }, 120_000);
});
