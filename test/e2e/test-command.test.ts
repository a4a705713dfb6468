/**
 * `sluice test [config]`: the cases beside a pipeline pass or fail with a diff and the exit
 * code says so; a bad cases file is refused with every problem and its path.
 *
 * Through the CLI where the command is the subject (its exit code, what it prints on stdout
 * and stderr: a failing case, a bad or missing cases file) and where a case's stage module is
 * loaded as Node loads it (the fresh-module test: in this process jest's module registry would
 * load it). Which cases run in which mode (--every-mode, --mode) and the example's own cases
 * run in this process through the command's handler (src/testing/cases/command.ts
 * testCommand, what `sluice test` calls with its flags): a `sluice test` child costs ~3 CPU-s.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';
import { testCommand, type TestCommandArgs } from '../../src/testing/cases/command';

/** `sluice test` in this process: what its handler prints to stdout, and the exit code (1: a case failed). */
async function testInProcess(args: TestCommandArgs): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const out = { write: (text: string) => ((stdout += text), true) } as unknown as NodeJS.WritableStream;
  const failed = await testCommand(args, out);
  return { code: failed ? 1 : 0, stdout };
}

let ws: Workspace;
beforeEach(() => {
  ws = workspace();
  ws.config({
    name: 'cases',
    source: { format: 'csv', path: 'nowhere/*.csv', schema: { id: 'int32' } }, // never read by `test`
    stages: [
      { name: 'transform', module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode: 'inline' },
      { name: 'count', module: path.join(FIXTURE_STAGES, 'e2e-count.ts'), mode: 'process' },
    ],
    sink: { format: 'ndjson', path: 'out/x.ndjson' },
  });
});
afterEach(() => ws.cleanup());

const cases = (text: string, name = 'pipeline.cases.ts') => writeFileSync(path.join(ws.dir, name), `import { defineCases } from 'sluice/testing';\nexport default defineCases(${text});\n`);

it('passing and failing cases: ✔/✖ per case, the diff of a failing one, exit 1', async () => {
  cases(`[
    { name: 'doubles x', stage: 'transform', input: [{ id: 1, name: 'a', x: 1.5 }, { id: 2, name: 'b', x: 2 }],
      expected: [{ id: 1, name: 'a', x: 1.5, x2: 3, label: 'a:1.5' }, { id: 2, name: 'b', x: 2, x2: 4, label: 'b:2' }] },
    { name: 'wrong expectation', stage: 'transform', input: [{ id: 1, name: 'a', x: 1.5 }, { id: 2, name: 'b', x: 2 }],
      expected: [{ id: 1, name: 'a', x: 1.5, x2: 3, label: 'a:1.5' }, { id: 2, name: 'b', x: 2, x2: 5, label: 'b:2' }] },
    { name: 'counts per day through the whole pipeline', batchRows: 1,
      input: [{ id: 1, name: 'a', x: 1, day: '2026-11-02' }, { id: 2, name: 'b', x: 2, day: '2026-11-01' }, { id: 3, name: 'c', x: 3, day: '2026-11-02' }],
      expected: [{ day: '2026-11-01', rows: 1 }, { day: '2026-11-02', rows: 2 }] },
    { name: 'a stage that fails', stage: 'transform', input: [{ id: 1, x: 1 }], expected: [] },
  ]`);
  const r = await runCli(['test', path.join(ws.dir, 'pipeline.config.ts')], { cwd: ws.dir });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(1);
  const lines = r.stdout.split('\n');
  expect(lines[0]).toBe('sluice test: 4 cases from pipeline.cases.ts (pipeline "cases")');
  expect(lines).toContain('  ✔ doubles x  [stage transform (inline)]');
  expect(lines).toContain('  ✔ counts per day through the whole pipeline  [pipeline: transform (inline) → count (process)]');
  // the diff: the differing row with both sides and the column that differs; id is Int32 from the source's schema
  expect(r.stdout).toContain(
    [
      '  ✖ wrong expectation  [stage transform (inline)]',
      '      row 1:',
      '        - expected { id: 2, name: "b", x: 2, x2: 5, label: "b:2" }',
      '        + received { id: 2, name: "b", x: 2, x2: 4, label: "b:2" }',
      '          differs in: x2',
    ].join('\n'),
  );
  // a stage error fails its case with the engine's message; the other cases still ran
  expect(r.stdout).toContain('  ✖ a stage that fails  [stage transform (inline)]\n      stage "transform", copy 0, batch #0 failed in process(): no column "name" in batch (columns: id, x)');
  expect(lines.at(-2)).toBe('2 passed, 2 failed');
});

it('JSON cases beside the config, run in every mode: all pass, exit 0', async () => {
  writeFileSync(
    path.join(ws.dir, 'pipeline.cases.json'),
    JSON.stringify([{ name: 'doubles x', stage: 'transform', input: [{ id: 1, name: 'a', x: 1.5 }], expected: [{ id: 1, name: 'a', x: 1.5, x2: 3, label: 'a:1.5' }] }]),
  );
  const r = await testInProcess({ config: path.join(ws.dir, 'pipeline.config.ts'), everyMode: true });
  expect(r.stdout.split('\n').filter((l) => l.startsWith('  '))).toEqual([
    '  ✔ doubles x  [stage transform (inline)]',
    '  ✔ doubles x  [stage transform (thread)]',
    '  ✔ doubles x  [stage transform (process)]',
  ]);
  expect(r.stdout).toContain('3 passed, 0 failed');
  expect(r.code).toBe(0);
});

it('--mode overrides a stage’s mode, as for run', async () => {
  cases(`[{ name: 'n', stage: 'count', input: [{ day: 'd' }], expected: [{ day: 'd', rows: 1 }] }]`);
  const r = await testInProcess({ config: path.join(ws.dir, 'pipeline.config.ts'), mode: ['count=thread'] });
  expect(r.stdout).toContain('  ✔ n  [stage count (thread)]');
  expect(r.code).toBe(0);
});

it('each case gets a fresh module instance of an inline stage: state kept at module level does not leak', async () => {
  // an ESM stage too (imported, not required): its module state must not leak either
  writeFileSync(
    path.join(ws.dir, 'tally.mjs'),
    `import { batchFromRows } from 'sluice/testing';\nlet seen = 0;\nexport default { process(batch) { seen += batch.numRows; }, flush() { return batchFromRows([{ seen }]); } };\n`,
  );
  ws.config({
    name: 'fresh',
    source: { format: 'csv', path: 'in.csv' },
    stages: [
      { name: 'count', module: path.join(FIXTURE_STAGES, 'e2e-count.ts'), mode: 'process' },
      { name: 'tally', module: './tally.mjs', mode: 'process' },
    ],
    sink: { format: 'ndjson', path: 'out/x.ndjson' },
  });
  cases(`[
    { name: 'first', stage: 'count', input: [{ day: 'd' }, { day: 'd' }], expected: [{ day: 'd', rows: 2 }] },
    { name: 'second', stage: 'count', input: [{ day: 'd' }], expected: [{ day: 'd', rows: 1 }] },
    { name: 'tally 1', stage: 'tally', input: [{ day: 'd' }, { day: 'd' }], expected: [{ seen: 2 }] },
    { name: 'tally 2', stage: 'tally', input: [{ day: 'd' }], expected: [{ seen: 1 }] },
  ]`);
  const r = await runCli(['test', '--mode', 'count=inline', '--mode', 'tally=inline'], { cwd: ws.dir });
  expect(r.stdout).toContain('4 passed, 0 failed');
  expect(r.code).toBe(0);
});

it('a bad cases file: every problem with its path, exit 1, nothing run', async () => {
  cases(`[
    { name: 'a', stage: 'transfrom', input: [], expected: [] },
    { name: 'a', input: [{ x: 1 }], expectd: [] },
    { name: 'c', input: 'rows', expected: [], types: { x: 'decimal' } },
  ] as never`);
  const r = await runCli(['test'], { cwd: ws.dir });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(
    [
      `sluice: invalid cases in ${path.join(ws.dir, 'pipeline.cases.ts')}:`,
      '  ✖ [0].stage: no stage "transfrom" in the pipeline (did you mean "transform"?); stages: transform, count',
      '  ✖ [1].expected: must be a list of rows',
      '  ✖ [1].expectd: unknown key (did you mean "expected"?); allowed: name, stage, input, batchRows, types, expected, ordered, options',
      '  ✖ [1].name: duplicate case name "a" (also [0])',
      '  ✖ [2].input: must be a list of rows',
      '  ✖ [2].types.x: must be one of utf8, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, date, datetime, timestamp',
      '',
    ].join('\n'),
  );
});

it('no cases file: says where to write one, exit 1', async () => {
  const r = await runCli(['test'], { cwd: ws.dir });
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`sluice: no cases file beside ${path.join(ws.dir, 'pipeline.config.ts')}: write ${path.join(ws.dir, 'pipeline.cases.ts')} (see sluice's docs/testing.md), or name one with --cases\n`);
});

it('the example pipeline’s own cases pass (pipeline.cases.ts beside pipeline.config.ts)', async () => {
  const r = await testInProcess({ config: path.join(REPO, 'pipeline.config.ts') });
  expect(r.stdout).toContain('3 passed, 0 failed');
  expect(r.code).toBe(0);
});
