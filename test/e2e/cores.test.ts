/**
 * The core budget (plan/cores.ts): explain counts what the plan starts against the cores, and
 * polars' pool in a process stage's children is what the plan says: polars' default (the
 * cores), or the user's POLARS_MAX_THREADS, which reaches every child.
 */
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
let cfg: string;
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 400);
  cfg = ws.config({
    name: 'cores',
    source: { format: 'csv', path: 'in.csv', batchRows: 100 },
    stages: [{ name: 'pool', module: path.join(FIXTURE_STAGES, 'polars-pool.ts'), mode: 'process', concurrency: 2 }],
    sink: { format: 'arrow', path: 'out/pool.arrow' },
  });
});
afterAll(() => ws.cleanup());

const seen = () => {
  const t = tableFromIPC(readFileSync(path.join(ws.dir, 'out/pool.arrow')));
  return { pool: [...new Set(t.getChild('poolThreads')!.toArray() as Int32Array)], env: [...new Set(t.getChild('env')!.toArray() as string[])] };
};

it('leaves polars\' pool at the cores in each child, and explain counts threads and children', async () => {
  const cores = os.availableParallelism();
  const r = await runCli(['run', cfg, '--quiet'], { env: { POLARS_MAX_THREADS: undefined } });
  expect(r.code).toBe(0);
  expect(seen()).toEqual({ pool: [cores], env: [''] });
  const explained = await runCli(['explain', cfg], { env: { POLARS_MAX_THREADS: undefined } });
  expect(explained.stdout).toContain(`cores    ${cores}: stage code on 2 threads at once`);
  expect(explained.stdout).toContain(`started besides the main thread: pool 2 processes; polars' pool ${cores} threads in this process and in each child (polars' default; POLARS_MAX_THREADS sets it)`);
});

it('keeps the user\'s POLARS_MAX_THREADS', async () => {
  const r = await runCli(['run', cfg, '--quiet'], { env: { POLARS_MAX_THREADS: '3' } });
  expect(r.code).toBe(0);
  expect(seen()).toEqual({ pool: [3], env: ['3'] });
  const explained = await runCli(['explain', cfg], { env: { POLARS_MAX_THREADS: '3' } });
  expect(explained.stdout).toContain("polars' pool 3 threads in this process and in each child (POLARS_MAX_THREADS, as set)");
});
