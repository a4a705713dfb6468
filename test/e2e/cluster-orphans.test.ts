/**
 * A cluster run that ends leaves no work behind (issue 27), with external workers (`sluice
 * worker --cluster <url>`, two of them, started by the test as a user starts them on other
 * machines) on a real redis-server; no mocks. Six files, a unit held on one worker by a gate
 * (test/fixtures/stages/hold-or-fail.ts: never a sleep) while the run ends:
 * - a unit fails on the other worker: the driver exits 1 naming it, with no job of the run left
 *   in Redis (none waiting for a worker to run it for a dead run), after the held unit's worker
 *   has dropped it (it says so) and removed what it staged; nothing beside the target, whose
 *   previous content is untouched;
 * - `sluice cancel` while a worker is mid-unit: the same, the cancel exits 0 once the unit is
 *   dropped, the driver exits 1;
 * - the driver SIGKILLed while a unit runs: nothing is removed (the run is re-attachable by
 *   --run-id, as documented); `sluice status` says no driver follows it; the workers finish
 *   the run and commit it; nothing hidden is left.
 * What is left in Redis is read with BullMQ's Queue API. Every wait is on a condition (a file
 * the gate writes, a job's state in Redis), never a time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Job, Queue } from 'bullmq';
import { BIN, runCli, type CliResult } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { startRedis, type TestRedis } from '../helpers/redis';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(300_000);

const ws = workspace('sluice-cluster-orphans-');
const FILES = 6;
const ROWS = 30;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
for (let i = 1; i <= FILES; i++) writeFileSync(path.join(inputs, `f${i}.csv`), ['id,v', ...Array.from({ length: ROWS }, (_, j) => `${i * 100 + j},${j}.5`)].join('\n') + '\n');

let redis: TestRedis;
let queue: Queue;
const workers: { child: ChildProcess; log: string }[] = [];
beforeAll(async () => {
  redis = await startRedis();
  queue = new Queue('sluice', { connection: { path: redis.url.slice('unix://'.length) } });
  for (let i = 0; i < 2; i++) {
    const child = spawn(BIN, ['worker', '--cluster', redis.url, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const w = { child, log: '' };
    child.stderr!.on('data', (d: Buffer) => (w.log += String(d)));
    workers.push(w);
  }
});
afterAll(async () => {
  await Promise.all(workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).map((w) => new Promise((r) => (w.child.once('exit', r), w.child.kill('SIGKILL')))));
  await queue.close();
  await redis.stop();
  ws.cleanup();
});

/** A case: its config (the gate holds f1's first batch; `fail`: f2's first batch throws once f1 is held), target, and gate files. */
function setup(name: string, fail: boolean): { config: string; dir: string; out: string; release: string; holding: string } {
  const dir = path.join(ws.dir, name);
  mkdirSync(path.join(dir, 'out'), { recursive: true });
  const out = path.join(dir, 'out', 'all.parquet');
  const release = path.join(dir, 'release');
  const holding = path.join(dir, 'holding');
  const config = ws.config(
    {
      name,
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 10 },
      stages: [{ name: 'gate', module: path.join(FIXTURE_STAGES, 'hold-or-fail.ts'), mode: 'inline', options: { holdIds: [100], failIds: fail ? [200] : [], release, holding } }],
      sink: { format: 'parquet', path: out },
    },
    `${name}.config.ts`,
  );
  return { config, dir, out, release, holding };
}

/** Every job of the run still in Redis, as `id: state`. */
async function jobsOf(runId: string): Promise<string[]> {
  const jobs = await queue.getJobs(['active', 'waiting', 'waiting-children', 'delayed', 'prioritized', 'paused', 'completed', 'failed']);
  const mine = jobs.filter((j): j is Job => j !== undefined && j.id!.startsWith(`${runId}-`));
  return (await Promise.all(mine.map(async (j) => `${j.id}: ${await j.getState()}`))).sort();
}

/** Entries under `dir` whose name starts with a dot (a staging area, a temporary, a lock). */
const hidden = (dir: string) => readdirSync(dir, { recursive: true }).map(String).filter((p) => p.split(path.sep).some((part) => part.startsWith('.')));

/** Polls (a condition, not a time; the jest timeout bounds it). */
async function until(test: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await test())) await new Promise((r) => setTimeout(r, 100));
}

/** Until no job of the run is waiting for or in a worker's hands: whatever the workers would still do for it is done. */
const settled = (runId: string) => until(async () => (await jobsOf(runId)).every((j) => /: (completed|failed)$/.test(j)));

const workerLogs = () => workers.map((w) => w.log).join('');

it('a unit fails on one worker while another is held mid-unit on the second: the driver exits 1 naming it, no job of the run is left in Redis, the held unit is dropped by its worker, nothing is left beside the target', async () => {
  const c = setup('failed', true);
  writeFileSync(c.out, 'the previous output');
  let ended = false;
  const driver = runCli(['run', c.config, '--cluster', redis.url, '--run-id', 'failed', '--attempts', '1', '--log-level', 'warn'], { timeoutMs: 200_000 });
  void driver.then(() => (ended = true));
  // The gate is let go once the run is dropped (its commit job gone) while f1's unit is held, or once the driver gave up without that.
  await until(async () => existsSync(c.holding) && (ended || !(await Job.fromId(queue, 'failed-commit'))));
  writeFileSync(c.release, '');
  const r: CliResult = await driver;
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/run failed: unit 1 \(.*f2\.csv\) failed after 1 attempt\(s\): .*hold-or-fail: deliberate failure on id 200.*; nothing was committed, the previous output is untouched/);
  await settled('failed');
  // Nothing of the run is left for a worker to take: no unit waiting, none run after the failure and completed for nothing.
  expect(await jobsOf('failed')).toEqual([]);
  expect(workerLogs()).toMatch(/dropped unit 0 \(.*f1\.csv\) of run failed (while it ran it \(at its next batch\)|before it recorded it): .*; nothing of it is kept/);
  expect(readFileSync(c.out, 'utf8')).toBe('the previous output');
  expect(hidden(c.dir)).toEqual([]);
});

it('sluice cancel while a worker is mid-unit: the cancel exits 0 once that worker dropped the unit, the driver exits 1, no job of the run is left, nothing beside the target', async () => {
  const c = setup('cancelled', false);
  const driver = runCli(['run', c.config, '--cluster', redis.url, '--run-id', 'cancelled', '--log-level', 'warn'], { timeoutMs: 200_000 });
  await until(() => existsSync(c.holding));
  const cancel = runCli(['cancel', '--cluster', redis.url, '--run-id', 'cancelled'], { timeoutMs: 200_000 });
  // The cancel has removed the commit job and now waits for the held unit: let it go.
  await until(async () => !(await Job.fromId(queue, 'cancelled-commit')));
  writeFileSync(c.release, '');
  const [k, r] = await Promise.all([cancel, driver]);
  expect(k.stderr).toMatch(/run cancelled cancelled: \d+ job\(s\) removed, once unit\(s\) [\d, ]*had stopped on their workers; its staging is removed/);
  expect(k.code).toBe(0);
  expect(r.stderr).toContain('run cancelled: its commit job is gone from Redis (cancelled?); nothing was committed');
  expect(r.code).toBe(1);
  await settled('cancelled');
  expect(await jobsOf('cancelled')).toEqual([]);
  expect(workerLogs()).toMatch(/dropped unit 0 \(.*f1\.csv\) of run cancelled (while it ran it \(at its next batch\)|before it recorded it): the run was cancelled \(sluice cancel\); nothing of it is kept/);
  expect(existsSync(c.out)).toBe(false);
  expect(hidden(c.dir)).toEqual([]);
});

it('the driver SIGKILLed while a unit runs: nothing is removed, status says no driver follows the run, the workers finish and commit it; nothing hidden left', async () => {
  const c = setup('orphan', false);
  const driver = runCli(['run', c.config, '--cluster', redis.url, '--run-id', 'orphan', '--log-level', 'warn'], {
    timeoutMs: 200_000,
    onSpawn: (child) => void until(() => existsSync(c.holding)).then(() => child.kill('SIGKILL')),
  });
  const r = await driver;
  expect(r.signal).toBe('SIGKILL');
  // Its key in Redis expires a few seconds after its last poll.
  const client = await queue.client;
  await until(async () => (await client.get('sluice:run-driver:orphan')) === null);
  const status = await runCli(['status', '--cluster', redis.url, '--run-id', 'orphan']);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('run orphan: waiting-children; units: ');
  expect(status.stdout).toContain('no driver follows it (killed or stopped): the workers go on and commit it; start the driver again with --run-id orphan to follow it, or sluice cancel');
  // The run is whole in Redis: the held unit in a worker's hands, the commit waiting for it.
  expect(await (await Job.fromId(queue, 'orphan-u0'))!.getState()).toBe('active');
  expect(await (await Job.fromId(queue, 'orphan-commit'))!.getState()).toBe('waiting-children');
  writeFileSync(c.release, '');
  await until(async () => (await (await Job.fromId(queue, 'orphan-commit'))?.getState()) === 'completed');
  expect(await duckRows(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM read_parquet('${c.out}')`)).toEqual([{ n: FILES * ROWS, ids: FILES * ROWS }]);
  expect(hidden(c.dir)).toEqual([]);
});
