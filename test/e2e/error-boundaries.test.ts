/**
 * One error wire format: a failure on the far side of each boundary the engine has (a stage
 * thread, a stage's child process, the source thread, a Parquet encoder thread) reaches the
 * CLI's message and the `--report` as the same class, code and location it had there.
 *
 * The boundaries are the engine's, not the command's: every case but the first runs `run()` in
 * this process (test/helpers/run-as-cli.ts: the error's message is what the CLI prints after
 * `sluice: `, the report attached to it what `--report` writes), without a CLI child's ~0.5
 * CPU-s of start-up each. Two run `sluice run`: a thread stage that throws (the command prints
 * that message and writes that report, exit 1), and one whose code throws from a timer: that
 * error reaches an engine loaded by jest from another realm (jest's sandbox has its own
 * `Error`), where it is taken for a non-Error value, so only a real process shows its message.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { runAsCli } from '../helpers/run-as-cli';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
const BAD_LINE = 352; // physical line (header is line 1): in the fourth batch of 100 rows
beforeAll(() => {
  ws = workspace('sluice-boundaries-');
  const rows = Array.from({ length: 600 }, (_, i) => `${i},n${i % 7},${(i * 0.5).toFixed(1)}`);
  writeFileSync(path.join(ws.dir, 'in.csv'), ['id,name,x', ...rows].join('\n') + '\n');
  rows[BAD_LINE - 2] = `${BAD_LINE - 2},bad,oops`;
  writeFileSync(path.join(ws.dir, 'bad.csv'), ['id,name,x', ...rows].join('\n') + '\n');
});
afterAll(() => ws.cleanup());

/** The cases that run through the CLI (see the header). */
const THROUGH_CLI = ['thread-throw', 'thread-uncaught'];

async function failedRun(name: string, config: object): Promise<{ stderr: string; error: Record<string, unknown> }> {
  const cfg = ws.config({ name, ...config }, `${name}.config.ts`);
  if (!THROUGH_CLI.includes(name)) {
    const r = await runAsCli(cfg);
    expect(r.code).toBe(1);
    expect(r.report?.ok).toBe(false);
    expect(r.said).toContain(r.report!.error!.message);
    return { stderr: r.said, error: r.report!.error as unknown as Record<string, unknown> };
  }
  const reportFile = path.join(ws.dir, `${name}.report.json`);
  const r = await runCli(['run', cfg, '--quiet', '--report', reportFile]);
  expect(r.code).toBe(1);
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  expect(report.ok).toBe(false);
  expect(r.stderr).toContain(`sluice: ${report.error.message}`);
  return { stderr: r.stderr, error: report.error };
}

const boom = (mode: string, how: string) => ({
  source: { format: 'csv', path: 'in.csv', batchRows: 100 },
  stages: [{ name: 'boom', module: path.join(FIXTURE_STAGES, 'e2e-fail.ts'), mode, options: { at: 2, how } }],
  sink: { format: 'ndjson', path: `out/${mode}-${how}.ndjson` },
});

describe.each(['thread', 'process'])('a %s stage', (mode) => {
  it('that throws: a StageError naming stage, copy, batch and phase', async () => {
    const { stderr, error } = await failedRun(`${mode}-throw`, boom(mode, 'throw'));
    expect(error).toMatchObject({ name: 'StageError', code: 'SLUICE_STAGE_FAILED', stage: 'boom', copy: 0, batch: 2, phase: 'process' });
    expect(error.sourceFile).toBe(path.join(ws.dir, 'in.csv'));
    expect(stderr).toMatch(/stage "boom", copy 0, batch #2, from .*in\.csv failed in process\(\): deliberate failure in e2e-fail/);
  });

  it('whose worker exits: a WorkerExitError naming stage, copy, batch and exit code', async () => {
    const { stderr, error } = await failedRun(`${mode}-exit`, boom(mode, 'exit'));
    expect(error).toMatchObject({ name: 'WorkerExitError', code: 'SLUICE_WORKER_EXITED', stage: 'boom', copy: 0, batch: 2, exitCode: 3, signal: null });
    expect(stderr).toMatch(/stage "boom", copy 0, batch #2.*: worker exited with code 3/);
  });
});

it('a thread stage whose code throws from a timer: the StageError of that error, naming the copy and batch its thread was running', async () => {
  const { stderr, error } = await failedRun('thread-uncaught', boom('thread', 'uncaught'));
  expect(error).toMatchObject({ name: 'StageError', code: 'SLUICE_STAGE_FAILED', stage: 'boom', copy: 0, batch: 2, phase: 'process' });
  expect(stderr).toMatch(/deliberate uncaught error in e2e-fail \(an error thrown outside any task; it ended the worker thread\)/);
});

it('a process stage killed by a signal: a WorkerExitError with the signal', async () => {
  const { error } = await failedRun('process-kill', boom('process', 'kill'));
  expect(error).toMatchObject({ name: 'WorkerExitError', code: 'SLUICE_WORKER_EXITED', stage: 'boom', copy: 0, batch: 2, signal: 'SIGKILL' });
});

it('bad input read on the source thread: a SourceError with file, line and column', async () => {
  const { stderr, error } = await failedRun('source-thread', {
    source: { format: 'csv', path: 'bad.csv', batchRows: 100, thread: true, schema: { x: 'float64' } },
    stages: [{ name: 't', module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode: 'inline' }],
    sink: { format: 'ndjson', path: 'out/source-thread.ndjson' },
  });
  expect(error).toMatchObject({ name: 'SourceError', code: 'SLUICE_SOURCE_INVALID', file: path.join(ws.dir, 'bad.csv'), line: BAD_LINE, column: 'x' });
  expect(stderr).toContain(`${path.join(ws.dir, 'bad.csv')}, line ${BAD_LINE}, column "x"`);
});

it('bad input parsed on a Parquet encoder thread (CSV straight to Parquet): a SourceError with file, line and column', async () => {
  const { stderr, error } = await failedRun('encoder-thread', {
    source: { format: 'csv', path: 'bad.csv', batchRows: 100, schema: { x: 'float64' } },
    stages: [],
    sink: { format: 'parquet', path: 'out/encoder.parquet', rowGroupSize: 100 },
  });
  expect(error).toMatchObject({ name: 'SourceError', code: 'SLUICE_SOURCE_INVALID', file: path.join(ws.dir, 'bad.csv'), line: BAD_LINE, column: 'x' });
  expect(stderr).toContain(`${path.join(ws.dir, 'bad.csv')}, line ${BAD_LINE}, column "x"`);
});
