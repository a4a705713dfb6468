/**
 * `ctx.reject(rows, reason)`: a stage takes rows of its input out itself, in every mode, routed by
 * its `onError`: `dead-letter` writes exactly those rows (read back by DuckDB) with the stage, the
 * source file, the source row number, the batch, the values and the reason; `skip` counts and
 * drops them; `fail` (the default) fails the run naming the stage, the batch, the first rows and
 * the reason, with nothing committed. With a copy that dies on a batch after rejecting its rows
 * (thread: exit; process: SIGKILL) and `retries: 1`, the batch runs again and its rejects count
 * once. The row invariant holds: rows read = rows written + rows rejected.
 *
 * Cells: mode × onError × (a retry of that batch or not), pairwise (test/helpers/pairwise.ts:
 * every pair of values occurs; 9 cells instead of the 15 of the full product), inline having no
 * retry (an inline copy cannot be replaced). The ways of naming rows (indices, typed arrays,
 * masks, an Arrow Bool vector) rotate over the cells; each is checked on its own in
 * test/unit/worker/reject-rows.test.ts.
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
import { pairwise } from '../helpers/pairwise';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';
import type { RejectsRowsOptions } from '../fixtures/stages/rejects-rows';

const ROWS = 600;
const BATCH_ROWS = 100;
/** In the first batch, the batch the copy dies on (#3: ids 300…399) and the last. */
const BAD = [7, 301, 302, 599];
const REASON = 'id on the refused list';
const FORMS = ['indices', 'int32', 'uint32', 'booleans', 'uint8', 'vector'] as const;
const log = pino({ level: 'silent' });

let ws: Workspace;
let input: string;
beforeAll(() => {
  ws = workspace('sluice-stage-reject-');
  input = path.join(ws.dir, 'in.csv');
  writeNumbersCsv(input, ROWS);
});
afterAll(() => ws.cleanup());

type Mode = 'inline' | 'thread' | 'process';
type OnError = 'fail' | 'skip' | 'dead-letter';

function config(out: string, stage: { mode: Mode; onError?: OnError; options: RejectsRowsOptions; retries?: number; key?: string[]; concurrency?: number }, extra: Partial<PipelineConfig> = {}): PipelineConfig {
  return {
    name: 'stage-reject',
    source: { format: 'csv', path: 'in.csv', batchRows: BATCH_ROWS },
    stages: [{ name: 'picky', module: path.join(FIXTURE_STAGES, 'rejects-rows.ts'), mode: stage.mode, options: stage.options as unknown as Record<string, unknown>, ...(stage.onError && { onError: stage.onError }), ...(stage.retries !== undefined && { retries: stage.retries }), ...(stage.key && { key: stage.key }), ...(stage.concurrency && { concurrency: stage.concurrency }) }],
    sink: { format: 'parquet', path: path.join(out, 'clean.parquet') },
    ...(stage.onError === 'dead-letter' && { deadLetter: { format: 'ndjson', path: path.join(out, 'rejects.ndjson') } }),
    ...extra,
  } as PipelineConfig;
}

async function run(cfg: PipelineConfig): Promise<RunReport> {
  const checked = checkConfig(cfg, '', ws.dir);
  return runPlan(buildPlan(checked.config, checked), { log });
}

const ids = async (out: string) => (await duckRows(`SELECT id FROM read_parquet('${out}/clean.parquet')`)).map((r) => Number(r.id));
const allIds = Array.from({ length: ROWS }, (_, i) => i);

const cells = pairwise({ mode: ['inline', 'thread', 'process'] as Mode[], onError: ['dead-letter', 'skip', 'fail'] as OnError[], retry: [false, true] }, (c) => !(c.mode === 'inline' && c.retry === true));

describe.each(cells.map((c, i) => ({ ...c, as: FORMS[i % FORMS.length], i })))('ctx.reject, $mode, onError $onError, retry $retry (rows as $as)', ({ mode, onError, retry, as, i }) => {
  it(onError === 'fail' ? 'fails naming stage, batch, rows and reason; nothing committed' : 'takes out exactly those rows; the rest flow on; counted once', async () => {
    const out = path.join(ws.dir, `cell-${i}`);
    const die = retry ? { firstId: 300, marker: path.join(ws.dir, `cell-${i}.marker`) } : undefined;
    const cfg = config(out, { mode, onError, options: { ids: BAD, as, ...(die && { die }) }, ...(retry && { retries: 1 }) });
    if (onError === 'fail') {
      await expect(run(cfg)).rejects.toThrow(/stage "picky".*batch #0.*ctx\.reject took 1 row of the batch out \(row 8 of .*in\.csv\): "id on the refused list"; the stage's onError is 'fail' \(the default\).*Set onError: 'dead-letter'/);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
      return;
    }
    const report = await run(cfg);
    expect(await ids(out)).toEqual(allIds.filter((id) => !BAD.includes(id)));
    expect(report.rejected).toMatchObject({ rows: BAD.length, counts: [{ place: 'picky', action: onError, reason: REASON, rows: BAD.length }] });
    expect(report.stages[0].rejected).toBe(BAD.length);
    if (retry) expect((report.stages[0] as { retries?: { batches: number[] } }).retries?.batches).toContain(3);
    // The invariant: rows read = rows written + rows rejected (the stage drops nothing else).
    expect(report.source.rows).toBe(ROWS);
    expect(report.sink.rows + report.rejected!.rows).toBe(report.source.rows);
    if (onError === 'skip') {
      expect(readdirSync(out)).toEqual(['clean.parquet']);
      return;
    }
    const rejects = await duckRows(`SELECT origin, stage, file, line, "row", "column", batch, reason, raw, values FROM read_json('${out}/rejects.ndjson') ORDER BY "row"`);
    expect(rejects.map((r) => ({ ...r, values: JSON.parse(String(r.values)) }))).toEqual(
      BAD.map((id) => ({
        origin: 'stage',
        stage: 'picky',
        file: input,
        line: null,
        row: String(id + 1),
        column: null,
        batch: String(Math.floor(id / BATCH_ROWS)),
        reason: REASON,
        raw: null,
        // the date as the input has it (it was its milliseconds since 1970 before the values were written as the NDJSON sink writes them)
        values: { id, name: `n${id % 97}`, x: id * 0.25, day: `2026-11-${String(1 + (id % 28)).padStart(2, '0')}` },
      })),
    );
  }, 60_000);
});

it('a stage that flags rows and passes them on: they are in both outputs, as the contract says', async () => {
  const out = path.join(ws.dir, 'keep');
  const report = await run(config(out, { mode: 'inline', onError: 'dead-letter', options: { ids: BAD, keep: true } }));
  expect(await ids(out)).toEqual(allIds);
  expect(report.rejected!.rows).toBe(BAD.length);
  expect((await duckRows(`SELECT count(*) AS n FROM read_json('${out}/rejects.ndjson')`))[0].n).toBe(String(BAD.length));
});

it('a keyed stage at 2 copies: the rows are rejected; no row number (its rows are regrouped by key)', async () => {
  const out = path.join(ws.dir, 'keyed');
  const report = await run(config(out, { mode: 'thread', onError: 'dead-letter', key: ['name'], concurrency: 2, options: { ids: BAD } }));
  expect((await ids(out)).sort((a, b) => a - b)).toEqual(allIds.filter((id) => !BAD.includes(id)));
  const rejects = await duckRows(`SELECT "row", batch, values FROM read_json('${out}/rejects.ndjson')`);
  expect(rejects.map((r) => Number(JSON.parse(String(r.values)).id)).sort((a, b) => a - b)).toEqual(BAD);
  expect(rejects.every((r) => r.row === null)).toBe(true);
  expect(report.sink.rows + report.rejected!.rows).toBe(ROWS);
});

it('counts against maxErrors: one more rejected row than the budget fails the run, nothing committed', async () => {
  const out = path.join(ws.dir, 'budget');
  const failed = run(config(out, { mode: 'thread', onError: 'dead-letter', options: { ids: BAD } }, { maxErrors: BAD.length - 1 }));
  await expect(failed).rejects.toThrow(/4 rows rejected \(skipped or dead-lettered\), more than maxErrors: 3.*The first: stage "picky", .*in\.csv, row 8: id on the refused list/);
  expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
});

describe('fused with the stage before it (thread stages, onError fail: fused members fail on a reject)', () => {
  const fusedConfig = (out: string, before: PipelineConfig['stages'][number], ids: number[]): PipelineConfig => ({
    ...config(out, { mode: 'thread', options: { ids } }),
    stages: [before, { name: 'picky', module: path.join(FIXTURE_STAGES, 'rejects-rows.ts'), mode: 'thread', options: { ids } }],
  });
  const planOf = (cfg: PipelineConfig) => {
    const checked = checkConfig(cfg, '', ws.dir);
    return buildPlan(checked.config, checked);
  };

  it('the run fails naming the member that rejected, with the source row (the rows before it are the file\'s)', async () => {
    const cfg = fusedConfig(path.join(ws.dir, 'fused'), { name: 'first', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'thread' }, BAD);
    expect(planOf(cfg).stages[0].name).toBe('first+picky');
    await expect(run(cfg)).rejects.toThrow(/stage "picky".*batch #0.*ctx\.reject took 1 row of the batch out \(row 8 of .*in\.csv\): "id on the refused list"/);
  }, 60_000);

  it('after a member that dropped rows, no source row is claimed', async () => {
    const cfg = fusedConfig(path.join(ws.dir, 'fused-drop'), { name: 'odd', module: path.join(FIXTURE_STAGES, 'throws-on-ids.ts'), mode: 'thread', options: { ids: [], dropOdd: true } }, [8]);
    expect(planOf(cfg).stages[0].name).toBe('odd+picky');
    await expect(run(cfg)).rejects.toThrow(/stage "picky".*batch #0.*ctx\.reject took 1 row of the batch out: "id on the refused list"/);
  }, 60_000);
});

it('a stage that rejects rows and throws on others: the bisected parts keep their own rejects, at their rows', async () => {
  const out = path.join(ws.dir, 'bisect');
  // 300 shares its batch (#3) with the rejected 301 and 302: they come from parts that start after it.
  const THROWS = [150, 300];
  const report = await run(config(out, { mode: 'inline', onError: 'dead-letter', options: { ids: BAD, throwIds: THROWS } }));
  expect(await ids(out)).toEqual(allIds.filter((id) => !BAD.includes(id) && !THROWS.includes(id)));
  const rejects = await duckRows(`SELECT "row", reason, values FROM read_json('${out}/rejects.ndjson') ORDER BY "row"`);
  expect(rejects.map((r) => [Number(r.row), r.reason, JSON.parse(String(r.values)).id])).toEqual(
    [...BAD, ...THROWS].sort((a, b) => a - b).map((id) => [id + 1, THROWS.includes(id) ? `id ${id} makes rejects-rows throw` : REASON, id]),
  );
  expect(report.sink.rows + report.rejected!.rows).toBe(ROWS);
}, 60_000);
