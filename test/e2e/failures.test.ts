/**
 * Every failure kind stops the run promptly (runCli kills a hung run and fails the test),
 * exits non-zero, names the stage, the batch and the stage's own error text (for an uncaught
 * error too, not just "a worker died"), and leaves nothing at the sink path.
 *
 * Two cases run through the CLI: an inline stage's uncaught error (it happens in the process
 * the run is in, so it needs one of its own) and a process stage's SIGKILL (the command's exit
 * code, stderr and --report for a dead copy). The others, whose failures happen in the run's
 * own threads and children, run `run()` in this process (test/helpers/run-as-cli.ts: rejected
 * is the CLI's exit 1, the error's message what it prints, the report the one it writes),
 * without a CLI child's ~0.5 CPU-s of start-up each.
 */
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { runCli } from '../helpers/cli';
import { runAsCli } from '../helpers/run-as-cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 2000);
});
afterAll(() => ws.cleanup());

const cases: Array<{ mode: string; how: string; expect: RegExp; cli?: true }> = [
  { mode: 'inline', how: 'throw', expect: /deliberate failure/ },
  { mode: 'inline', how: 'uncaught', expect: /deliberate uncaught error in e2e-fail/, cli: true },
  { mode: 'thread', how: 'throw', expect: /deliberate failure/ },
  { mode: 'process', how: 'throw', expect: /deliberate failure/ },
  { mode: 'thread', how: 'exit', expect: /exited with code 3/ },
  // The error itself, not any worker exit: "deliberate uncaught error" is the stage's own text.
  { mode: 'thread', how: 'uncaught', expect: /deliberate uncaught error in e2e-fail/ },
  { mode: 'process', how: 'exit', expect: /exited with code 3/ },
  { mode: 'process', how: 'kill', expect: /SIGKILL/, cli: true },
  { mode: 'process', how: 'uncaught', expect: /deliberate uncaught error in e2e-fail/ },
];

describe.each(cases)('a $mode stage that fails by $how', ({ mode, how, expect: cause, cli }) => {
  it(`${cli ? 'sluice run exits non-zero' : 'run() rejects'}, names stage and batch, leaves no output`, async () => {
    const name = `${mode}-${how}`;
    const cfg = ws.config(
      {
        name,
        source: { format: 'csv', path: 'in.csv', batchRows: 100 },
        stages: [
          { name: 'before', module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode: 'inline' },
          { name: 'boom', module: path.join(FIXTURE_STAGES, 'e2e-fail.ts'), mode, options: { at: 2, how } },
        ],
        // a directory of its own per case: what one case leaves cannot fail the next
        sink: { format: 'parquet', path: `out/${name}/${name}.parquet` },
      },
      `${name}.config.ts`,
    );
    const reportFile = path.join(ws.dir, `${name}.report.json`);
    const r = cli ? await runCli(['run', cfg, '--quiet', '--report', reportFile]) : await runAsCli(cfg);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    const said = 'said' in r ? r.said : r.stderr;
    expect(said).toMatch(/stage "boom"/);
    expect(said).toMatch(cause);
    // every kind, an uncaught error from a timer too: the batch the copy was running
    expect(said).toMatch(/batch #2\b/);
    expect(existsSync(path.join(ws.dir, 'out', name, `${name}.parquet`))).toBe(false);
    // no output, no temporary sibling, no Parquet spool left behind
    expect(ws.outFiles().filter((f) => f.startsWith(`${name}${path.sep}`))).toEqual([]);
    const report = 'report' in r ? r.report! : JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(report.ok).toBe(false);
    expect(report.error.message).toMatch(/boom/);
    expect(report.error.message).toMatch(cause);
  });
});
