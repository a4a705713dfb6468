/**
 * Every failure kind stops the run promptly (runCli kills a hung run and fails the test),
 * exits non-zero, names the stage, the batch and the stage's own error text (for an uncaught
 * error too, not just "a worker died"), and leaves nothing at the sink path.
 */
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 2000);
});
afterAll(() => ws.cleanup());

const cases: Array<{ mode: string; how: string; expect: RegExp }> = [
  { mode: 'inline', how: 'throw', expect: /deliberate failure/ },
  { mode: 'inline', how: 'uncaught', expect: /deliberate uncaught error in e2e-fail/ },
  { mode: 'thread', how: 'throw', expect: /deliberate failure/ },
  { mode: 'process', how: 'throw', expect: /deliberate failure/ },
  { mode: 'thread', how: 'exit', expect: /exited with code 3/ },
  // The error itself, not any worker exit: "deliberate uncaught error" is the stage's own text.
  { mode: 'thread', how: 'uncaught', expect: /deliberate uncaught error in e2e-fail/ },
  { mode: 'process', how: 'exit', expect: /exited with code 3/ },
  { mode: 'process', how: 'kill', expect: /SIGKILL/ },
  { mode: 'process', how: 'uncaught', expect: /deliberate uncaught error in e2e-fail/ },
];

describe.each(cases)('a $mode stage that fails by $how', ({ mode, how, expect: cause }) => {
  it('exits non-zero, names stage and batch, leaves no output', async () => {
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
    const r = await runCli(['run', cfg, '--quiet', '--report', reportFile]);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toMatch(/stage "boom"/);
    expect(r.stderr).toMatch(cause);
    // every kind, an uncaught error from a timer too: the batch the copy was running
    expect(r.stderr).toMatch(/batch #2\b/);
    expect(existsSync(path.join(ws.dir, 'out', name, `${name}.parquet`))).toBe(false);
    // no output, no temporary sibling, no Parquet spool left behind
    expect(ws.outFiles().filter((f) => f.startsWith(`${name}${path.sep}`))).toEqual([]);
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(report.ok).toBe(false);
    expect(report.error.message).toMatch(/boom/);
    expect(report.error.message).toMatch(cause);
  });
});
