/**
 * A stage that throws for 3 rows hidden in large batches, with `onError: 'dead-letter'` (or
 * `skip`), in each mode: the engine re-runs the batch on halves until those rows are isolated;
 * exactly they reach the dead-letter output (read back by DuckDB) with the stage, the source
 * file, the row number, the stage's message and its stack; every other row reaches the sink,
 * equal to a clean run's output without those rows. One more bad row than `maxErrors` fails
 * the run with nothing committed. The row invariant holds: read = written + rejected + dropped.
 */
import { existsSync, readdirSync } from 'node:fs';
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
/** Hidden in the first, a middle and the last batch (batches of 1000 rows). */
const BAD = [17, 1501, 2999];
const log = pino({ level: 'silent' });

let ws: Workspace;
let input: string;
beforeAll(() => {
  ws = workspace('sluice-dead-stage-');
  input = path.join(ws.dir, 'in.csv');
  writeNumbersCsv(input, ROWS);
});
afterAll(() => ws.cleanup());

type Mode = 'inline' | 'thread' | 'process';

function config(out: string, mode: Mode, over: { ids?: number[]; onError?: 'skip' | 'dead-letter'; maxErrors?: number | string; dropOdd?: boolean } = {}): PipelineConfig {
  return {
    name: 'dead-stage',
    source: { format: 'csv', path: 'in.csv', batchRows: 1000 },
    stages: [{ name: 'boom', module: path.join(FIXTURE_STAGES, 'throws-on-ids.ts'), mode, options: { ids: over.ids ?? [], dropOdd: over.dropOdd ?? false }, ...(over.onError && { onError: over.onError }) }],
    sink: { format: 'parquet', path: path.join(out, 'clean.parquet') },
    ...(over.onError === 'dead-letter' && { deadLetter: { format: 'ndjson', path: path.join(out, 'rejects.ndjson') } }),
    ...(over.maxErrors !== undefined && { maxErrors: over.maxErrors }),
  };
}

async function run(cfg: PipelineConfig): Promise<RunReport> {
  const checked = checkConfig(cfg, '', ws.dir);
  return runPlan(buildPlan(checked.config, checked), { log });
}

const output = async (out: string) => (await duckRows(`SELECT * FROM read_parquet('${out}/clean.parquet')`)).map((r) => JSON.stringify(r));

describe.each<Mode>(['inline', 'thread', 'process'])('a stage that throws on 3 rows, %s', (mode) => {
  it('dead-letters exactly those rows; the rest equal a clean run', async () => {
    const clean = path.join(ws.dir, `clean-${mode}`);
    const dead = path.join(ws.dir, `dead-${mode}`);
    await run(config(clean, mode));
    const report = await run(config(dead, mode, { ids: BAD, onError: 'dead-letter' }));

    const expected = (await output(clean)).filter((r) => !BAD.includes(JSON.parse(r).id as number));
    expect(await output(dead)).toEqual(expected);
    const rejects = await duckRows(`SELECT origin, stage, file, "row", reason, values, stack FROM read_json('${dead}/rejects.ndjson') ORDER BY "row"`);
    expect(rejects.map((r) => ({ ...r, stack: undefined, values: JSON.parse(String(r.values)).id }))).toEqual(
      BAD.map((id) => ({ origin: 'stage', stage: 'boom', file: input, row: String(id + 1), reason: `id ${id} is refused by throws-on-ids`, values: id, stack: undefined })),
    );
    for (const r of rejects) expect(String(r.stack)).toContain('throws-on-ids');
    expect(report.rejected).toMatchObject({ rows: 3, counts: BAD.map((id) => ({ place: 'boom', action: 'dead-letter', reason: `id ${id} is refused by throws-on-ids`, rows: 1 })) });
    expect(report.stages[0].rejected).toBe(3);
    // The invariant: rows read = rows written + rows rejected (+ rows dropped on purpose: none here).
    expect(report.source.rows).toBe(ROWS);
    expect(report.sink.rows + report.rejected!.rows).toBe(report.source.rows);
  }, 60_000);
});

it('skip drops the same rows and counts them; with a filter the invariant counts its rows', async () => {
  const out = path.join(ws.dir, 'skip');
  const report = await run(config(out, 'inline', { ids: BAD, onError: 'skip', dropOdd: true }));
  const ids = (await duckRows(`SELECT id FROM read_parquet('${out}/clean.parquet')`)).map((r) => Number(r.id));
  const expected = Array.from({ length: ROWS }, (_, i) => i).filter((i) => i % 2 === 0 && !BAD.includes(i));
  expect(ids).toEqual(expected);
  expect(readdirSync(out)).toEqual(['clean.parquet']);
  const droppedOnPurpose = Array.from({ length: ROWS }, (_, i) => i).filter((i) => i % 2 === 1 && !BAD.includes(i)).length;
  expect(report.rejected).toMatchObject({ rows: 3 });
  expect(report.rejected!.counts.every((c) => c.action === 'skip' && c.place === 'boom')).toBe(true);
  expect(report.source.rows).toBe(report.sink.rows + report.rejected!.rows + droppedOnPurpose);
});

describe('the budget', () => {
  it.each([2, '0.07%'])('one more bad row than maxErrors %p fails the run, nothing committed', async (maxErrors) => {
    const out = path.join(ws.dir, `budget-${String(maxErrors).replace('%', 'pc')}`);
    const failed = run(config(out, 'inline', { ids: BAD, onError: 'dead-letter', maxErrors }));
    await expect(failed).rejects.toThrow(/3 rows rejected \(skipped or dead-lettered\), more than maxErrors.*nothing was committed\. The first: stage "boom", .*in\.csv, row 18: id 17 is refused/);
    expect(existsSync(path.join(out, 'clean.parquet'))).toBe(false);
    expect(existsSync(path.join(out, 'rejects.ndjson'))).toBe(false);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it.each<Mode>(['inline', 'thread'])('a stage that throws on every row stops being bisected once past maxErrors (%s): 11 rows found, not the batch', async (mode) => {
    // Without the budget the first batch's 1000 rows were each isolated (~2000 runs of the stage) before the run failed.
    const out = path.join(ws.dir, `budget-all-${mode}`);
    const all = Array.from({ length: ROWS }, (_, i) => i);
    const failed = run(config(out, mode, { ids: all, onError: 'dead-letter', maxErrors: 10 }));
    await expect(failed).rejects.toThrow(/: 11 rows rejected \(skipped or dead-lettered\), more than maxErrors: 10; nothing was committed\. The first: stage "boom", .*in\.csv, row 1: id 0 is refused/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('a stage that rejects every row (no budget) fails saying so, and commits nothing', async () => {
    const out = path.join(ws.dir, 'all-rejected');
    const cfg = config(out, 'inline', { ids: Array.from({ length: ROWS }, (_, i) => i), onError: 'skip' });
    cfg.source.batchRows = 3000; // one batch: ~6 000 runs of the stage to isolate its rows, in a second
    await expect(run(cfg)).rejects.toThrow(/clean\.parquet: stage "boom" rejected every one of the 3000 rows it was given \(its onError\).*nothing is committed, the rejected rows neither/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('exactly maxErrors bad rows pass', async () => {
    const out = path.join(ws.dir, 'budget-ok');
    const report = await run(config(out, 'inline', { ids: BAD, onError: 'dead-letter', maxErrors: 3 }));
    expect(report.rejected!.rows).toBe(3);
  });
});
