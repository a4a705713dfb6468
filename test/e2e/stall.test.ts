/**
 * An inline stage whose promise never settles ends the run the same way whatever the sink
 * (CSV, NDJSON, Arrow, Parquet single file and partitioned) and whatever runs beside it (a
 * thread or process stage after it): exit 1 naming the stage and batch, nothing left. The
 * detection is Node running out of work; no thread or child of the engine may keep the
 * process alive while it owes the run nothing (a Parquet encoder thread did: a hang).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 1000);
});
afterAll(() => ws.cleanup());

const STALLED = /the run cannot finish: nothing is left to wait on, but stage "stuck" \(inline\) on batch #3 never settled/;
const hang = { name: 'stuck', module: path.join(FIXTURE_STAGES, 'guard-fail.ts'), mode: 'inline', options: { at: 3, how: 'hang' } };
const after = (mode: string) => ({ name: `then-${mode}`, module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode });

describe.each([
  ['csv', {}, []],
  ['ndjson', {}, []],
  ['arrow', {}, []],
  ['parquet', {}, []],
  ['parquet', { partitionBy: ['day'] }, []],
  ['csv', {}, [after('thread')]],
  ['csv', {}, [after('process')]],
  ['parquet', {}, [after('thread')]],
])('sink %s %j, then %j', (format, extra, more) => {
  it('exits 1 naming the stage and batch, with nothing written', async () => {
    const name = `stall-${format}-${Object.keys(extra).join('')}-${(more as { mode: string }[]).map((s) => s.mode).join('')}`;
    const cfg = ws.config(
      {
        name,
        source: { format: 'csv', path: 'in.csv', batchRows: 100 },
        stages: [hang, ...(more as object[])],
        sink: { format, path: `out/${name}${'partitionBy' in extra ? '' : `.${format}`}`, ...extra },
      },
      `${name}.config.ts`,
    );
    const r = await runCli(['run', cfg, '--quiet'], { timeoutMs: 30_000 });
    expect(r.signal).toBeNull();
    expect(r.stderr).toMatch(STALLED);
    expect(r.code).toBe(1);
    expect(ws.outFiles().filter((f) => f.includes(name))).toEqual([]);
  });
});

// Inline stages next to each other run fused as one group; a stall names the member holding
// the batch, the stage the user wrote, never the group ("before+stuck").
it('a fused inline group: names the member that holds the batch, not the group', async () => {
  const cfg = ws.config(
    {
      name: 'stall-fused',
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [{ name: 'before', module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode: 'inline' }, hang],
      sink: { format: 'csv', path: 'out/stall-fused.csv' },
    },
    'stall-fused.config.ts',
  );
  const r = await runCli(['run', cfg, '--quiet'], { timeoutMs: 30_000 });
  expect(r.stderr).toMatch(STALLED);
  expect(r.stderr).not.toContain('before+stuck');
  expect(r.code).toBe(1);
});

describe('commands that run a stage outside a run', () => {
  let dir: string;
  beforeAll(() => {
    const cfg = ws.config(
      { name: 'stall-cmd', source: { format: 'csv', path: 'in.csv', batchRows: 100 }, stages: [{ ...hang, options: { at: 1, how: 'hang' } }], sink: { format: 'csv', path: 'out/stall-cmd.csv' } },
      'stall-cmd.config.ts',
    );
    dir = path.dirname(cfg);
    writeFileSync(
      path.join(dir, 'stall-cmd.cases.ts'),
      `import { defineCases } from 'sluice/testing';
export default defineCases([
  { name: 'stuck', batchRows: 1, input: [{ id: 1 }, { id: 2 }, { id: 3 }], expected: [{ id: 1 }, { id: 2 }, { id: 3 }] },
  { name: 'after it', stage: 'stuck', options: { at: 9, how: 'hang' }, input: [{ id: 1 }], expected: [{ id: 1 }] },
]);
`,
    );
  });

  it('sluice test: the case fails naming the stage and batch, the next case still runs, exit 1', async () => {
    const r = await runCli(['test', path.join(dir, 'stall-cmd.config.ts'), '--cases', path.join(dir, 'stall-cmd.cases.ts')], { cwd: dir, timeoutMs: 30_000 });
    expect(r.stdout).toContain('  ✖ stuck  [pipeline: stuck (inline)]\n      case "stuck" cannot finish: nothing is left to wait on, but stage "stuck" (inline) on batch #1 never settled');
    expect(r.stdout).toContain('  ✔ after it  [stage stuck (inline)]');
    expect(r.stdout).toContain('1 passed, 1 failed');
    expect(r.code).toBe(1);
  });

  it('explain --profile: fails naming the stage and batch, exit 1', async () => {
    const r = await runCli(['explain', path.join(dir, 'stall-cmd.config.ts'), '--profile'], { cwd: dir, timeoutMs: 30_000 });
    expect(r.stderr).toMatch(/the profile cannot finish: nothing is left to wait on, but stage "stuck" \(inline\) on batch #1 never settled/);
    expect(r.code).toBe(1);
  });
});
