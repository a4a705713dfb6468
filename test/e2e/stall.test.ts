/**
 * An inline stage whose promise never settles ends the run the same way whatever the sink
 * (CSV, NDJSON, Arrow, Parquet single file and partitioned) and whatever runs beside it (a
 * thread or process stage after it): exit 1 naming the stage and batch, nothing left. The
 * detection is Node running out of work; no thread or child of the engine may keep the
 * process alive while it owes the run nothing (a Parquet encoder thread did: a hang).
 *
 * Each run needs a process of its own (the detection is that process running out of work, which
 * a jest worker never does); they are independent, so all are started in beforeAll, two at a
 * time (test/helpers/started.ts), and each test asserts on its own.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, type CliResult } from '../helpers/cli';
import { Started } from '../helpers/started';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
const runs = new Started<CliResult>(2);
/** Declared beside its test, in the order of the tests; each makes its config when it starts. */
const launch = (key: string, work: () => Promise<CliResult>) => runs.declare(key, work);
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 1000);
  runs.startAll();
});
afterAll(async () => {
  await runs.settled();
  ws.cleanup();
});

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
  // No name is a part of another's: the runs overlap, and "nothing written" looks for the name under out/.
  const name = `stall-${format}${'partitionBy' in extra ? '-partitioned' : ''}-then-${(more as { mode: string }[]).map((s) => s.mode).join('') || 'none'}`;
  launch(name, () => {
    const cfg = ws.config(
      {
        name,
        source: { format: 'csv', path: 'in.csv', batchRows: 100 },
        stages: [hang, ...(more as object[])],
        sink: { format, path: `out/${name}${'partitionBy' in extra ? '' : `.${format}`}`, ...extra },
      },
      `${name}.config.ts`,
    );
    return runCli(['run', cfg, '--quiet'], { timeoutMs: 30_000 });
  });
  it('exits 1 naming the stage and batch, with nothing written', async () => {
    const r = await runs.get(name);
    expect(r.signal).toBeNull();
    expect(r.stderr).toMatch(STALLED);
    expect(r.code).toBe(1);
    expect(ws.outFiles().filter((f) => f.includes(name))).toEqual([]);
  });
});

// Inline stages next to each other run fused as one group; a stall names the member holding
// the batch, the stage the user wrote, never the group ("before+stuck").
launch('stall-fused', () => {
  const cfg = ws.config(
    {
      name: 'stall-fused',
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [{ name: 'before', module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode: 'inline' }, hang],
      sink: { format: 'csv', path: 'out/stall-fused.csv' },
    },
    'stall-fused.config.ts',
  );
  return runCli(['run', cfg, '--quiet'], { timeoutMs: 30_000 });
});
it('a fused inline group: names the member that holds the batch, not the group', async () => {
  const r = await runs.get('stall-fused');
  expect(r.stderr).toMatch(STALLED);
  expect(r.stderr).not.toContain('before+stuck');
  expect(r.code).toBe(1);
});

// A setup() that never settles, in a fused group: the run is still starting (no batch read), and
// the stall names the member in its setup, not "start-up" (the failure matrix caught that words).
launch('stall-setup', () => {
  const cfg = ws.config(
    {
      name: 'stall-setup',
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [
        { name: 'before', module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode: 'inline' },
        { name: 'stuck-setup', module: path.join(FIXTURE_STAGES, 'matrix-fail.ts'), mode: 'inline', options: { phase: 'setup', how: 'hang' } },
      ],
      sink: { format: 'parquet', path: 'out/stall-setup', partitionBy: ['day'] },
    },
    'stall-setup.config.ts',
  );
  return runCli(['run', cfg, '--quiet'], { timeoutMs: 30_000 });
});
it('a setup() that never settles: names the stage in its start-up, exit 1, nothing written', async () => {
  const r = await runs.get('stall-setup');
  expect(r.stderr).toMatch(/the run cannot finish: nothing is left to wait on, but stage "stuck-setup" \(inline\) in its start-up \(setup\(\)\) never settled/);
  expect(r.code).toBe(1);
  expect(ws.outFiles().filter((f) => f.includes('stall-setup'))).toEqual([]);
});

describe('commands that run a stage outside a run', () => {
  let dir: string;
  /** The config and cases, written once, by whichever of the two runs starts first. */
  let made = false;
  const make = () => {
    if (made) return;
    made = true;
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
  };
  launch('test', () => {
    make();
    return runCli(['test', path.join(dir, 'stall-cmd.config.ts'), '--cases', path.join(dir, 'stall-cmd.cases.ts')], { cwd: dir, timeoutMs: 30_000 });
  });
  launch('profile', () => {
    make();
    return runCli(['explain', path.join(dir, 'stall-cmd.config.ts'), '--profile'], { cwd: dir, timeoutMs: 30_000 });
  });

  it('sluice test: the case fails naming the stage and batch, the next case still runs, exit 1', async () => {
    const r = await runs.get('test');
    expect(r.stdout).toContain('  ✖ stuck  [pipeline: stuck (inline)]\n      case "stuck" cannot finish: nothing is left to wait on, but stage "stuck" (inline) on batch #1 never settled');
    expect(r.stdout).toContain('  ✔ after it  [stage stuck (inline)]');
    expect(r.stdout).toContain('1 passed, 1 failed');
    expect(r.code).toBe(1);
  });

  it('explain --profile: fails naming the stage and batch, exit 1', async () => {
    const r = await runs.get('profile');
    expect(r.stderr).toMatch(/the profile cannot finish: nothing is left to wait on, but stage "stuck" \(inline\) on batch #1 never settled/);
    expect(r.code).toBe(1);
  });
});
