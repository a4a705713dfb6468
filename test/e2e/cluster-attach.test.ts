/**
 * Cluster runs outlive their driver (a real redis-server started by the test, real `sluice
 * worker` processes; no mocks): a driver SIGKILLed after it added the run, started again with
 * the same --run-id, re-attaches to the run in Redis and does not run again the units a worker
 * finished meanwhile (asserted from the report: every unit ran once); a third start finds the
 * run committed and does nothing. `sluice status` shows a run's units; `sluice cancel` removes
 * a run, and its driver stops, exit 1, nothing committed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Job, Queue } from 'bullmq';
import { BIN, runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { startRedis, type TestRedis } from '../helpers/redis';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(600_000);

const ws = workspace('sluice-cluster-attach-');
const FILES = 6;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
for (let i = 1; i <= FILES; i++) writeFileSync(path.join(inputs, `f${i}.csv`), ['id,v', ...Array.from({ length: 20 }, (_, j) => `${i * 100 + j},${j}.5`)].join('\n') + '\n');

let redis: TestRedis;
let queue: Queue;
const workers: ChildProcess[] = [];
beforeAll(async () => {
  redis = await startRedis();
  queue = new Queue('sluice', { connection: { path: redis.url.slice('unix://'.length) } });
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await queue.close();
  await redis.stop();
  ws.cleanup();
});

/** The gate's release file: until it exists, a worker process runs its first two units and holds the third. */
const release = path.join(ws.dir, 'release');
const holding = path.join(ws.dir, 'holding');

function config(name: string): { file: string; out: string } {
  const out = path.join(ws.dir, name, 'out.parquet');
  const file = ws.config({ name, source: { format: 'csv', path: path.join(inputs, '*.csv') }, stages: [{ name: 'gate', module: path.join(FIXTURE_STAGES, 'gate-after.ts'), mode: 'inline', options: { pass: 2, release, holding } }], sink: { format: 'parquet', path: out } }, `${name}.config.ts`);
  return { file, out };
}

function startWorker(): ChildProcess {
  const w = spawn(BIN, ['worker', '--cluster', redis.url, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  workers.push(w);
  return w;
}

/** The driver, killed with `signal` as soon as it says the run is in Redis. */
function driverKilledOnceStarted(args: string[], then: (child: ChildProcess) => void | Promise<void>) {
  let done = false;
  return runCli(args, {
    timeoutMs: 300_000,
    onSpawn: (child) =>
      child.stderr!.on('data', (d: Buffer) => {
        if (done || !/cluster run started/.test(String(d))) return;
        done = true;
        void then(child);
      }),
  });
}

async function until(what: string, test: () => Promise<boolean>): Promise<void> {
  // Polls a state in Redis (no fixed sleep stands in for it); the jest timeout bounds it.
  while (!(await test())) await new Promise((r) => setTimeout(r, 200));
  void what;
}

async function completedUnits(runId: string): Promise<number> {
  const states = await Promise.all(Array.from({ length: FILES }, async (_, u) => (await Job.fromId(queue, `${runId}-u${u}`))?.getState()));
  return states.filter((s) => s === 'completed').length;
}

it('a driver killed after it added the run re-attaches when started again with its --run-id: units done meanwhile are not run again; a committed run is not run again', async () => {
  const c = config('again');
  const args = ['run', c.file, '--cluster', redis.url, '--run-id', 'again', '--log-level', 'info'];
  // 1. No worker yet: the driver adds the run and waits; it is SIGKILLed there.
  const first = await driverKilledOnceStarted(args, (child) => void child.kill('SIGKILL'));
  expect(first.signal).toBe('SIGKILL');
  // 2. A worker runs units with no driver following: two, then it holds the third at the gate.
  // It is stopped there (SIGTERM: it finishes the unit it has, once the gate opens, and takes no
  // other), so exactly three are done and three wait, whatever the machine's speed.
  const w = startWorker();
  // Its event loop is blocked while it holds, so the SIGTERM is handled after the third unit's
  // batch and before it could take a fourth.
  await until('the third unit held', async () => existsSync(holding));
  expect(await completedUnits('again')).toBe(2);
  const exited = new Promise((r) => w.once('exit', r));
  w.kill('SIGTERM');
  writeFileSync(release, '');
  await exited;
  const doneMeanwhile = await completedUnits('again');
  expect(doneMeanwhile).toBe(3);
  const status = await runCli(['status', '--cluster', redis.url, '--run-id', 'again']);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('run again: waiting-children; units: ');
  expect(status.stdout).toContain(`${doneMeanwhile} completed`);
  // 3. The driver again: it re-attaches, and only then a worker starts (a worker started before
  // it would finish the last units before the driver looks, and doneBefore would count them:
  // CI saw 6 for 5); the run commits; no unit ran twice.
  const report = path.join(ws.dir, 'again.report.json');
  let attached = false;
  const second = await runCli([...args, '--report', report], {
    timeoutMs: 300_000,
    onSpawn: (child) =>
      child.stderr!.on('data', (d: Buffer) => {
        if (attached || !/re-attached to a run already in Redis/.test(String(d))) return;
        attached = true;
        startWorker();
      }),
  });
  expect(attached).toBe(true);
  expect(second.code).toBe(0);
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  expect(rep.reattached.doneBefore).toHaveLength(doneMeanwhile);
  expect(rep.units.map((u: { attempts: number }) => u.attempts)).toEqual(Array(FILES).fill(1));
  expect(await duckRows(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM read_parquet('${c.out}')`)).toEqual([{ n: FILES * 20, ids: FILES * 20 }]);
  // 4. Once more: committed already, nothing is run or written.
  const bytes = readFileSync(c.out);
  const third = await runCli(args, { timeoutMs: 120_000 });
  expect(third.code).toBe(0);
  expect(third.stderr).toContain('run again was committed already: nothing to do');
  expect(readFileSync(c.out)).toEqual(bytes);
});

it('sluice cancel removes a run: its driver stops with exit 1 and nothing is committed; status then knows no such run', async () => {
  // No worker may take the run's units before the cancel: a warm worker left by the test before
  // finishes 6 small units in well under a second, and the run would commit first (a race).
  await Promise.all(workers.filter((w) => w.exitCode === null && w.signalCode === null).map((w) => new Promise((r) => (w.once('exit', r), w.kill('SIGTERM')))));
  const c = config('gone');
  let cancelled: ReturnType<typeof runCli> | undefined;
  const driver = await driverKilledOnceStarted(['run', c.file, '--cluster', redis.url, '--run-id', 'gone', '--log-level', 'info'], () => {
    cancelled = runCli(['cancel', '--cluster', redis.url, '--run-id', 'gone']);
  });
  const cancel = await cancelled!;
  expect(cancel.stderr).toContain('run gone cancelled');
  expect(cancel.code).toBe(0);
  expect(driver.code).toBe(1);
  expect(driver.stderr).toContain('run gone: its commit job is gone from Redis (cancelled?); nothing was committed');
  expect(existsSync(c.out)).toBe(false);
  const status = await runCli(['status', '--cluster', redis.url, '--run-id', 'gone']);
  expect(status.code).toBe(1);
  expect(status.stderr).toContain('no run gone in this Redis');
});
