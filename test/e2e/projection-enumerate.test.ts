/**
 * Projection pushdown never changes an answer, in real runs in every mode: a stage that learns
 * its column list other than by name (test/fixtures/stages/learns-columns.ts: every way found)
 * and sums every column it learns, with a `reads` that lists fewer, either fails the run naming
 * the stage and the columns left out, or (no pushdown) writes the full totals; a stage that
 * learns its columns to pass the unlisted ones on and declares `passesOnUnlisted` runs with
 * pushdown and writes the same rows as without. Output read back by DuckDB, not by sluice.
 *
 * Cells, run in-process through `run()` (as `sluice run` does: the checks, then the plan with
 * the projection). The full product way × mode × (undeclared, declared) is covered by one run
 * per mode and declaration, with a probe stage that tries every way on every batch and writes
 * what each gave (the guard lets stage code catch its error, so one run shows all 18): with
 * pushdown an undeclared stage is refused every way, a declared one learns the 2 columns it got,
 * and without pushdown (no reads) every way learns all 4, as the source has them. Then, in
 * inline mode, the summing job without pushdown (the totals it must give) and with it (a
 * failed run, no output), and in thread and process mode the same failure through the CLI
 * (exit code, stderr). A declared stage passing the unlisted columns on, with and without
 * pushdown, in every mode × sink: test/e2e/projection.test.ts (its stage declares it).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../src/index';
import { runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';
import { WAYS, type Way } from '../fixtures/stages/learns-columns';
import pino from 'pino';

const ROWS = 40;
const MODES = ['inline', 'thread', 'process'] as const;
type Mode = (typeof MODES)[number];
const WAY_NAMES = Object.keys(WAYS) as Way[];
const UNDECLARED = path.join(FIXTURE_STAGES, 'learns-columns.ts');
const DECLARED = path.join(FIXTURE_STAGES, 'learns-columns-declared.ts');

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-projection-enum-');
  const lines = ['id,x,y,note'];
  for (let i = 0; i < ROWS; i++) lines.push(`${i},${i * 0.5},${100 + i},"note ${i}, quoted"`);
  writeFileSync(path.join(ws.dir, 'in.csv'), lines.join('\n') + '\n');
});
afterAll(() => ws.cleanup());

const stage = (name: string, module: string, mode: Mode, options: object) => ({ name, module, mode, concurrency: 1, options });

function job(name: string, stages: object[]) {
  const file = ws.config({ name, source: { format: 'csv', path: 'in.csv', batchRows: 20 }, stages, sink: { format: 'parquet', path: `out/${name}.parquet` } }, `${name}.config.ts`);
  return { file, output: path.join(ws.dir, 'out', `${name}.parquet`) };
}

const quiet = { log: pino({ level: 'silent' }), quiet: true };
const outcome = (file: string) =>
  run(file, quiet).then(
    (report) => ({ ok: true as const, report }),
    (err: unknown) => ({ ok: false as const, message: String((err as Error).message) }),
  );

/** The totals without pushdown: id + x + y (note is text), from the values the file was made of. */
const fullTotals = Array.from({ length: ROWS }, (_, i) => ({ id: i, total: i + i * 0.5 + 100 + i }));
const totals = (file: string) => duckRows(`SELECT id::INTEGER AS id, total FROM read_parquet('${file}') ORDER BY id`);

const probe = (name: string, module: string, mode: Mode, reads: string[] | undefined) =>
  job(name, [stage('learner', module, mode, { role: 'probe', ...(reads && { reads }) })]);
const outcomes = async (file: string) => duckRows(`SELECT DISTINCT way, outcome FROM read_parquet('${file}') ORDER BY way`);
const every = (outcome: string) => [...WAY_NAMES].sort().map((way) => ({ way, outcome }));

describe.each(MODES)('in %s mode, every way of learning the columns', (mode) => {
  it('with pushdown, undeclared: refused, every way', async () => {
    const on = probe(`probe-${mode}`, UNDECLARED, mode, ['id', 'x']);
    const r = await outcome(on.file);
    expect(r.ok || r.message).toBe(true);
    expect(r.ok && r.report.source.leftOut).toEqual(['y', 'note']);
    expect(await outcomes(on.output)).toEqual(every('refused'));
  });

  it('with pushdown, declared passesOnUnlisted: runs, and learns the columns it got', async () => {
    const on = probe(`probe-declared-${mode}`, DECLARED, mode, ['id', 'x']);
    const r = await outcome(on.file);
    expect(r.ok || r.message).toBe(true);
    expect(await outcomes(on.output)).toEqual(every('learned 2'));
  });

  it('without pushdown (no reads): every way learns every column', async () => {
    const off = probe(`probe-off-${mode}`, UNDECLARED, mode, undefined);
    const r = await outcome(off.file);
    expect(r.ok || r.message).toBe(true);
    expect(r.ok && r.report.source.leftOut).toBeUndefined();
    expect(await outcomes(off.output)).toEqual(every('learned 4'));
  });
});

it('a summing stage with a reads() listing fewer: the full totals without pushdown; with it, a failed run naming stage and columns, and no output', async () => {
  const off = job('sum-off', [stage('learner', UNDECLARED, 'inline', { way: 'schema.fields', role: 'sum' })]);
  const r = await outcome(off.file);
  expect(r.ok || r.message).toBe(true);
  expect(await totals(off.output)).toEqual(fullTotals);
  const on = job('sum-on', [stage('learner', UNDECLARED, 'inline', { way: 'schema.fields', role: 'sum', reads: ['id', 'x'] })]);
  const failed = await outcome(on.file);
  expect(failed.ok ? 'exit 0' : failed.message).toMatch(/stage "learner".*failed in process\(\): it learned which columns its batch has \(batch\.schema.*\) while projection pushdown left out y, note/s);
  expect(ws.outFiles()).not.toContain('sum-on.parquet');
});

it.each(['thread', 'process'] as const)('through the CLI (%s): a non-zero exit naming the stage and the columns left out', async (mode) => {
  const on = job(`cli-${mode}`, [stage('learner', UNDECLARED, mode, { way: 'ctx.toDataFrame(batch).columns', role: 'sum', reads: ['id', 'x'] })]);
  const r = await runCli(['run', on.file, '--quiet', '--log-level', 'error'], { timeoutMs: 120_000 });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('stage "learner"');
  expect(r.stderr).toContain('ctx.toDataFrame(batch): a DataFrame shows every column');
  expect(r.stderr).toContain('projection pushdown left out y, note');
  expect(r.stderr).toContain('passesOnUnlisted: true');
  expect(ws.outFiles()).not.toContain(`cli-${mode}.parquet`);
}, 150_000);
