/**
 * The package's public face: the ESM re-export list matches src/index.ts, and run() works.
 *
 * run() is called as a user's script calls it: a child with the TS loader registered that
 * imports `sluice`. One child runs the three cases below one after another (each in its own
 * workspace, as its cwd) and prints one line per case; each test reads its own: one child,
 * not three. Its sluice/register is dist/'s when dist/ is the build of src/ (registerForChild).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as api from '../../src/index';
import { registerForChild } from '../helpers/register-for-child';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

it('src/index.mjs re-exports every value export of src/index.ts', () => {
  const mjs = readFileSync(path.resolve(__dirname, '../../src/index.mjs'), 'utf8');
  const listed = /export const \{([^}]*)\} = api;/.exec(mjs)![1].split(',').map((s) => s.trim()).filter(Boolean);
  const values = Object.keys(api).filter((k) => k !== '__esModule' && k !== 'default');
  expect(listed.sort()).toEqual(values.sort());
});

/** One case of the script: its workspace (with its pipeline.config.ts), and the call of `run` whose promise gives the line printed. */
interface Case {
  ws: Workspace;
  call: string;
}

const cases: Record<'report' | 'refused' | 'params', Case> = {} as never;
let child: SpawnSyncReturns<string>;
/** The line each case printed, parsed, by case name. */
const printed: Record<string, unknown> = {};

beforeAll(() => {
  const report = workspace();
  writeNumbersCsv(path.join(report.dir, 'in.csv'), 120);
  cases.report = {
    ws: report,
    call: `run(${JSON.stringify(report.config({ name: 'from-code', source: { format: 'csv', path: 'in.csv', batchRows: 50 }, stages: [{ name: 't', module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode: 'inline' }], sink: { format: 'ndjson', path: 'out/code.ndjson' } }))}).then((r) => ({ ok: r.ok, rows: r.sink.rows }))`,
  };

  const refused = workspace();
  writeNumbersCsv(path.join(refused.dir, 'in.csv'), 20);
  cases.refused = {
    ws: refused,
    call: `run(${JSON.stringify(refused.config({ name: 'from-code', source: { format: 'csv', path: 'in.csv' }, stages: [{ name: 'count', module: path.join(FIXTURE_STAGES, 'e2e-count.ts'), mode: 'thread' }], sink: { format: 'ndjson', path: 'out/code.ndjson' } }))}, { concurrency: ['count=2'] }).then(() => ({}), (e: { code: string; issues: { path: string }[] }) => ({ code: e.code, issues: e.issues.map((i) => i.path) }))`,
  };

  const params = workspace();
  writeNumbersCsv(path.join(params.dir, 'in.csv'), 20);
  writeNumbersCsv(path.join(params.dir, 'other.csv'), 7);
  cases.params = {
    ws: params,
    call: `run(${JSON.stringify(params.config({ name: 'from-code', params: { tag: 'a', n: 1 }, source: { format: 'csv', path: 'in.csv' }, stages: [], sink: { format: 'ndjson', path: 'out/code.ndjson' } }))}, { set: ['tag=x'], sourcePath: ['other.csv'] }).then((r) => ({ rows: r.sink.rows, params: r.params }))`,
  };

  // Each case runs with its workspace as cwd (relative paths resolve there, as for a user's script).
  const script = path.join(report.dir, 'script.ts');
  const steps = Object.entries(cases).map(([name, c]) => `  process.chdir(${JSON.stringify(c.ws.dir)});\n  console.log(JSON.stringify({ case: ${JSON.stringify(name)}, out: await ${c.call} }));`);
  writeFileSync(script, `import { run } from 'sluice';\n(async () => {\n${steps.join('\n')}\n})();\n`);
  child = spawnSync(process.execPath, [...registerForChild(), script], { encoding: 'utf8', cwd: report.dir });
  for (const line of child.stdout.split('\n')) {
    if (!line.startsWith('{"case":')) continue;
    const { case: name, out } = JSON.parse(line) as { case: string; out: unknown };
    printed[name] = out;
  }
});

afterAll(() => {
  for (const c of Object.values(cases)) c?.ws.cleanup();
});

it('the script importing `sluice` exits 0 having printed one line per case', () => {
  // On failure the child's stderr is what jest shows.
  expect(child.status === 0 ? 0 : child.stderr).toBe(0);
  expect(Object.keys(printed)).toEqual(['report', 'refused', 'params']);
});

it('run() runs a pipeline from code and resolves with its report', () => {
  expect(printed.report).toEqual({ ok: true, rows: 120 });
  expect(cases.report.ws.outFiles()).toEqual(['code.ndjson']);
});

it('run() checks everything before it starts, as `sluice run` does: a stage with flush() at 2 copies is refused', () => {
  expect(printed.refused).toEqual({ code: 'SLUICE_CONFIG_INVALID', issues: ['stages[0].concurrency'] });
  expect(cases.refused.ws.outFiles()).toEqual([]);
});

it('run() takes params and a source path as the CLI does, and its report records the params', () => {
  expect(printed.params).toEqual({ rows: 7, params: { tag: 'x', n: 1 } });
});
