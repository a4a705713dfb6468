/**
 * The watchdog for an inline stage (issue 26): it runs on the main thread, so there is no copy
 * to kill and replace. A promise that never settles fails the run at `timeout`, naming stage
 * and batch (with a Parquet sink: its encoder threads must not keep the run alive); a busy
 * loop holds the main thread, so the death watch's process (cli/watcher.cjs) kills the run a
 * few seconds past the timeout and says which stage and batch it was stuck in, in stderr and
 * in the --report. Nothing is written either way. (An inline promise that never settles
 * without a timeout ends as a stall: test/e2e/stall.test.ts.)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

const STAGE = path.join(FIXTURE_STAGES, 'fault-once.ts');
let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-watchdog-');
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 2000);
});
afterAll(() => ws.cleanup());

function config(name: string, how: 'hang' | 'busy', sink: string): string {
  return ws.config(
    {
      name,
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [{ name: 'stuck', module: STAGE, mode: 'inline', timeout: '1s', options: { firstId: 500, how, marker: path.join(ws.dir, `${name}.marker`) } }],
      sink: { format: sink, path: `out/${name}.${sink}` },
    },
    `${name}.config.ts`,
  );
}

it.each(['parquet', 'csv'])('an inline promise that never settles fails at its timeout, naming stage and batch (%s sink)', async (sink) => {
  const name = `hang-${sink}`;
  const r = await runCli(['run', config(name, 'hang', sink), '--quiet'], { cwd: ws.dir, timeoutMs: 60_000 });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/stage "stuck", copy 0, batch #5[^\n]* failed in process\(\): no answer within its timeout of 1 s/);
  expect(existsSync(path.join(ws.dir, 'out', `${name}.${sink}`))).toBe(false);
});

it('an inline busy loop: the death watch kills the run past its timeout, naming stage and batch', async () => {
  const report = path.join(ws.dir, 'busy.report.json');
  const r = await runCli(['run', config('busy', 'busy', 'parquet'), '--quiet', '--report', report], { cwd: ws.dir, timeoutMs: 60_000 });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/its main thread stopped answering while running stage "stuck" \(inline\) in process\(\) on batch #5[^\n]*past its timeout of 1000 ms/);
  expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ ok: false, error: { code: 'SLUICE_RUN_DIED', message: expect.stringMatching(/stopped answering/) } });
  expect(existsSync(path.join(ws.dir, 'out', 'busy.parquet'))).toBe(false);
});
