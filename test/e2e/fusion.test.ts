/**
 * Adjacent thread stages with the same copies fused into one worker (plan/fuse.ts): each batch
 * runs through both in the same thread, the output is the same as unfused (inline), flushes and
 * a member's combine keep their meaning, and a failure names the member that failed.
 *
 * The subject is the engine's fusion, not the command: the runs compared go through `run()` in
 * this process (test/helpers/in-process-run.ts; thread copies started from dist/ as a CLI run's
 * are), the report being the run's own. Through the CLI (exit code, stderr, the --report file,
 * `sluice explain`): the first job and the failing one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { runCli } from '../helpers/cli';
import { runInProcess } from '../helpers/in-process-run';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  // id, key: 1 200 rows, keys k0…k6
  writeFileSync(path.join(ws.dir, 'in.csv'), 'id,key\n' + Array.from({ length: 1200 }, (_, i) => `${i},k${i % 7}`).join('\n') + '\n');
});
afterAll(() => ws.cleanup());

const stage = (name: string, fixture: string, mode: string, options: object = {}) => ({ name, module: path.join(FIXTURE_STAGES, fixture), mode, concurrency: mode === 'inline' ? 1 : 2, options });

/**
 * Runs the job in this process, or with `viaCli` through `sluice run --report` (the code, the
 * stderr and the report file the CLI gives; in process, the error's message, which the CLI
 * prints after `sluice:`, and the run's report); `explain`: also `sluice explain` it (a CLI
 * start of its own: only where a test reads it).
 */
async function run(name: string, stages: object[], opts: { explain?: boolean; viaCli?: boolean } = {}): Promise<{ rows: Record<string, unknown>[]; report: Record<string, any>; explain?: string; code: number | null; stderr: string }> {
  const cfg = ws.config({ name, source: { format: 'csv', path: 'in.csv', batchRows: 100, inferRows: 100 }, stages, sink: { format: 'arrow', path: `out/${name}.arrow` } }, `${name}.config.ts`);
  const reportFile = path.join(ws.dir, `${name}.report.json`);
  let r: { code: number | null; stderr: string };
  let report: Record<string, any>;
  if (opts.viaCli) {
    r = await runCli(['run', cfg, '--report', reportFile, '--quiet']);
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } else {
    const o = await runInProcess(cfg);
    r = { code: o.error ? 1 : 0, stderr: o.error ? `sluice: ${o.error.message}` : o.logged.join('\n') };
    report = { ...o.report, ok: !o.error };
  }
  const explain = opts.explain ? (await runCli(['explain', cfg])).stdout : undefined;
  if (r.code !== 0) return { rows: [], report, explain, code: r.code, stderr: r.stderr };
  const rows = tableFromIPC(readFileSync(path.join(ws.dir, 'out', `${name}.arrow`)))
    .toArray()
    .map((row) => JSON.parse(JSON.stringify(row.toJSON(), (_k, v) => (typeof v === 'bigint' ? Number(v) : v))));
  return { rows, report, explain, code: r.code, stderr: r.stderr };
}

it('runs adjacent thread stages in one worker: each batch through both on the same thread, no hand-off', async () => {
  const fused = await run('where', [stage('a', 'where-ran.ts', 'thread', { column: 'ranA' }), stage('b', 'where-ran.ts', 'thread', { column: 'ranB' })], { explain: true, viaCli: true });
  expect(fused.code).toBe(0);
  expect(fused.rows).toHaveLength(1200);
  for (const row of fused.rows) {
    expect(row.ranA).toBe(row.ranB);
    expect(row.ranA).not.toBe(0);
  }
  expect(fused.report.stages.map((s: { name: string; mode: string }) => [s.name, s.mode])).toEqual([['a+b', 'thread']]);
  expect(fused.report.channels.map((c: { name: string }) => c.name)).toEqual(['source→a+b', 'a+b→sink']);
  expect(fused.explain).toMatch(/stage {4}a\+b: thread × 2 .*fused: each copy runs polars on its chunk of CSV, then a \(.*where-ran\.ts\), then b \(.*where-ran\.ts\) on each batch, no hand-off between them/);
});

it('gives the same output as the stages unfused, each member with its own options and name', async () => {
  const fused = await run('tags', [stage('a', 'tag.ts', 'thread', { tag: 'x' }), stage('b', 'tag.ts', 'thread', { tag: 'y' })]);
  const inline = await run('tags-inline', [stage('a', 'tag.ts', 'inline', { tag: 'x' }), stage('b', 'tag.ts', 'inline', { tag: 'y' })]);
  expect(fused.rows).toEqual(inline.rows);
  expect(fused.rows[0]).toEqual({ id: 0, key: 'k0', tag: 'y@b' }); // b's tag over a's: b ran after a
  expect(fused.report.stages[0]).toMatchObject({ name: 'a+b', rowsIn: 1200, rowsOut: 1200 });
});

it('a combine in the last member merges every copy\'s partials, as unfused', async () => {
  const fused = await run('count-last', [stage('a', 'tag.ts', 'thread', { tag: 'x' }), stage('count', 'count-combine.ts', 'thread')]);
  const inline = await run('count-last-inline', [stage('a', 'tag.ts', 'inline', { tag: 'x' }), stage('count', 'count-combine.ts', 'inline')]);
  expect(fused.rows.map(({ key, n }) => ({ key, n }))).toEqual(inline.rows.map(({ key, n }) => ({ key, n })));
  expect(fused.rows).toHaveLength(7);
  expect(fused.rows.map((r) => r.n).reduce((a, b) => Number(a) + Number(b), 0)).toBe(1200);
  expect(fused.rows[0].partials).toBe(2); // both copies' partials met on the main thread
});

it('a combine in a member before the last: the merged output goes through the members after it', async () => {
  const fused = await run('count-first', [stage('count', 'count-combine.ts', 'thread'), stage('b', 'tag.ts', 'thread', { tag: 'after' })]);
  const inline = await run('count-first-inline', [stage('count', 'count-combine.ts', 'inline'), stage('b', 'tag.ts', 'inline', { tag: 'after' })]);
  expect(fused.report.stages[0].name).toBe('count+b');
  expect(fused.rows.map(({ key, n, tag }) => ({ key, n, tag }))).toEqual(inline.rows.map(({ key, n, tag }) => ({ key, n, tag })));
  expect(fused.rows).toHaveLength(7);
  expect(fused.rows.every((r) => r.tag === 'after@b' && r.partials === 2)).toBe(true);
});

it('a failure names the member that failed, its batch, and the run exits non-zero', async () => {
  const failed = await run('fail', [stage('a', 'tag.ts', 'thread', { tag: 'x' }), stage('boom', 'e2e-fail.ts', 'thread', { at: 2, how: 'throw' })], { viaCli: true });
  expect(failed.code).not.toBe(0);
  expect(failed.stderr).toMatch(/stage "boom".*batch #\d+/);
  expect(failed.stderr).toContain('deliberate failure in e2e-fail');
  expect(failed.report.ok).toBe(false);
});
