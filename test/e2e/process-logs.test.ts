/**
 * A process-mode stage's logs all arrive, even when it logs a burst in its last batch and
 * whoever reads sluice's stderr is slow (the child used to exit with its output queued).
 *
 * The three runs are independent, and the last mostly waits (the bounded wait for a dead copy's
 * last lines): all three start in beforeAll, at once (test/helpers/started.ts), and each test
 * asserts on its own.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, runCli, type CliResult } from '../helpers/cli';
import { Started } from '../helpers/started';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
const runs = new Started<Pick<CliResult, 'code' | 'stderr'>>(3);
const LINES = 50_000;

/** `sluice run` with a slow reader of its stderr: after every 64 KiB it stops reading for 5 ms, so the pipes fill up. */
async function burst(): Promise<Pick<CliResult, 'code' | 'stderr'>> {
  const cfg = ws.config({
    name: 'log-burst',
    source: { format: 'csv', path: 'in.csv', batchRows: 100 },
    stages: [{ name: 'burst', module: path.join(FIXTURE_STAGES, 'log-burst.ts'), mode: 'process', options: { at: 9, lines: LINES } }],
    sink: { format: 'csv', path: 'out/burst.csv' },
  });
  const child = spawn(BIN, ['run', cfg, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  let received = 0;
  child.stderr.on('data', (d: Buffer) => {
    text += d;
    received += d.length;
    if (received >= 64 * 1024) {
      received = 0;
      child.stderr.pause();
      setTimeout(() => child.stderr.resume(), 5);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr: text };
}

function flood(): Promise<CliResult> {
  // 20 lines of 1 MiB per batch: the child's stderr pipe is full when its next task starts.
  const cfg = ws.config(
    {
      name: 'flood',
      source: { format: 'csv', path: 'in.csv', batchRows: 200 },
      stages: [{ name: 'flood', module: path.join(FIXTURE_STAGES, 'stderr-flood.ts'), mode: 'process', options: { lines: 20, chars: 1 << 20 } }],
      sink: { format: 'csv', path: 'out/flood.csv' },
    },
    'flood.config.ts',
  );
  return runCli(['run', cfg, '--quiet', '--log-level', 'error'], { timeoutMs: 50_000 });
}

async function noisy(): Promise<CliResult> {
  const pidFile = path.join(ws.dir, 'grandchild.pid');
  const cfg = ws.config(
    {
      name: 'noisy',
      source: { format: 'csv', path: 'in.csv', batchRows: 500 },
      stages: [{ name: 'noisy', module: path.join(FIXTURE_STAGES, 'noisy-grandchild.ts'), mode: 'process', options: { pidFile, exitAt: 1 } }],
      sink: { format: 'csv', path: 'out/noisy.csv' },
    },
    'noisy.config.ts',
  );
  try {
    return await runCli(['run', cfg, '--quiet'], { timeoutMs: 45_000 });
  } finally {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
  }
}

beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 1000);
  void runs.start('burst', burst);
  void runs.start('flood', flood);
  void runs.start('noisy', noisy);
});
afterAll(async () => {
  await runs.settled();
  ws.cleanup();
});

it('delivers every line a process stage logs in its last batch to a slow reader', async () => {
  const { code, stderr } = await runs.get('burst');
  expect(code).toBe(0);
  const lines = stderr.split('\n').filter((l) => l.includes('"msg":"burst"'));
  expect(lines.length).toBe(LINES);
  expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ stage: 'burst', i: LINES - 1 });
}, 60_000);

it('runs a process stage that floods its stderr (the marker of the task it starts waits for the full pipe instead of failing the copy)', async () => {
  const r = await runs.get('flood');
  expect({ code: r.code, error: r.stderr.split('\n').find((l) => l.startsWith('sluice:')) }).toEqual({ code: 0, error: undefined });
  expect(readFileSync(path.join(ws.dir, 'out/flood.csv'), 'utf8').trim().split('\n')).toHaveLength(1001);
}, 60_000);

it('reports a dead copy although a grandchild keeps writing to the pipe it inherited (the wait for its last lines is bounded)', async () => {
  const r = await runs.get('noisy');
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/stage "noisy", copy 0, batch #1, .*: worker exited with code 3/);
}, 60_000);
