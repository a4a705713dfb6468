/** SIGINT/SIGTERM during a run abort it: exit 130/143, no output, no temp files left. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { BIN } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 2000);
});
afterAll(() => ws.cleanup());

it.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s aborts the run with exit code %i and leaves nothing', async (signal, expected) => {
  const cfg = ws.config(
    {
      name: `sig-${signal}`,
      source: { format: 'csv', path: 'in.csv', batchRows: 10 },
      stages: [{ name: 'slow', module: path.join(FIXTURE_STAGES, 'e2e-slow.ts'), mode: 'thread', options: { ms: 20 } }],
      sink: { format: 'parquet', path: `out/sig-${signal}.parquet` },
    },
    `sig-${signal}.config.ts`,
  );
  const child = spawn(BIN, ['run', cfg, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // Signal once the run has started (its first log line), not after a guessed delay.
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('"run started"')) resolve();
    });
  });
  child.kill(signal);
  expect(await exited).toBe(expected);
  expect(stderr).toMatch(/run aborted/);
  // neither the output, nor its temporary sibling, nor a Parquet spool directory
  expect(ws.outFiles().filter((f) => f.includes(`sig-${signal}`) || f.includes('sluice-'))).toEqual([]);
});
