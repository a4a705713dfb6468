/**
 * The run's bookkeeping cannot lie (issue 23). The death watch speaks for a run that died
 * where no JavaScript runs, and writes the failure to --report and --metrics alike (a kill -9
 * must not leave the previous run's `sluice_run_success 1`); it rests its verdict on markers the
 * run writes before the step they vouch for, so a stopped watcher (its pipe full, lines lost)
 * or a kill after the report was written never turns a committed run into "Nothing was
 * committed"; and the run's params, secrets among them, are on no command line of the run's
 * processes (the watcher, thread workers, process children). Processes are held with file
 * handshakes (e2e-gate, exit-gate), never by sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN } from '../helpers/cli';
import { parseOpenMetrics } from '../helpers/openmetrics';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';
import { descendants } from '../helpers/processes';
import { duckRows } from '../helpers/duckdb';
import { waitFor } from '../helpers/fair-clock';

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-bookkeeping-');
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 1500);
});
afterAll(() => ws.cleanup());

const at = (name: string) => path.join(ws.dir, name);

/** Resolves once `test()` holds (polled: the state of another process, not a timing). */
async function until(what: string, test: () => boolean, ms = 30_000): Promise<void> {
  await waitFor(test, what, ms); // ms of a fair share of the CPU (a busy machine is not a hang)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); // a zombie has exited
  } catch {
    return false;
  }
}


const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};
const watcherOf = (root: number) => {
  const found = descendants(root).filter((p) => cmdline(p).includes('watcher.cjs'));
  expect(found).toHaveLength(1);
  return found[0];
};

/**
 * `exit`: the process ended; `closed`: its stderr closed too, which the watcher (inheriting
 * stderr to have the last word) holds open until it is done.
 */
function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const closed = new Promise<string>((resolve) => child.on('close', () => resolve(stderr)));
  return { child: child as ChildProcess, exit, closed };
}

const success = (file: string) => parseOpenMetrics(readFileSync(file, 'utf8')).get('sluice_run_success')!.samples[0].value;
const readReport = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { ok: boolean; committed?: string[]; error?: { code: string; message: string } };

/** A pipeline held at its first batch by an inline gate; batchRows 1 fills the watcher's pipe (two lines a batch). */
function gated(name: string, batchRows = 1): { cfg: string; ready: string; release: string; out: string } {
  const ready = at(`${name}.ready`);
  const release = at(`${name}.release`);
  const out = at(`out/${name}.csv`);
  const cfg = ws.config(
    {
      name,
      source: { format: 'csv', path: 'in.csv', batchRows },
      stages: [{ name: 'gate', module: path.join(FIXTURE_STAGES, 'e2e-gate.ts'), mode: 'inline', options: { ready, release } }],
      sink: { format: 'csv', path: out },
    },
    `${name}.config.ts`,
  );
  return { cfg, ready, release, out };
}

it('kill -9: the watcher writes the failure to --metrics (no stale "success 1") and to --report', async () => {
  const g = gated('killed', 500);
  const [report, metrics] = [at('killed.json'), at('killed.prom')];
  // A run that succeeded first: its metrics say success 1.
  writeFileSync(g.release, '');
  const first = start(['run', g.cfg, '--quiet', '--report', report, '--metrics', metrics]);
  expect((await first.exit).code).toBe(0);
  expect(success(metrics)).toBe(1);
  rmSync(g.release);
  rmSync(g.ready);

  const run = start(['run', g.cfg, '--quiet', '--report', report, '--metrics', metrics]);
  await until('the gate', () => existsSync(g.ready));
  const watcher = watcherOf(run.child.pid!);
  run.child.kill('SIGKILL');
  await until('the watcher to finish', () => !isAlive(watcher));
  expect((await run.exit).signal).toBe('SIGKILL');
  await run.closed;
  expect(success(metrics)).toBe(0);
  const r = readReport(report);
  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe('SLUICE_RUN_DIED');
  expect(r.error?.message).toMatch(/died without a word: .*stage "gate" \(inline\) in process\(\) on batch #0 from /);
});

it('a stopped watcher (its pipe full) does not turn a committed, successful run into a failure', async () => {
  const g = gated('stopped');
  const [report, metrics] = [at('stopped.json'), at('stopped.prom')];
  const run = start(['run', g.cfg, '--quiet', '--report', report, '--metrics', metrics]);
  await until('the gate', () => existsSync(g.ready));
  const watcher = watcherOf(run.child.pid!);
  process.kill(watcher, 'SIGSTOP');
  try {
    writeFileSync(g.release, '');
    const done = await run.exit;
    expect(done.code).toBe(0);
  } finally {
    process.kill(watcher, 'SIGCONT');
  }
  await until('the watcher to finish', () => !isAlive(watcher));
  expect(await run.closed).not.toMatch(/died/);
  expect(readReport(report).ok).toBe(true);
  expect(success(metrics)).toBe(1);
  expect(readFileSync(g.out, 'utf8').split('\n')).toHaveLength(1502);
});

it('killed after its report was written and before it exited: the report stays as the run wrote it, and the watcher says the output was committed', async () => {
  const [exiting, release] = [at('late.exiting'), at('late.release')];
  const [report, metrics, out] = [at('late.json'), at('late.prom'), at('out/late.csv')];
  const cfg = ws.config(
    {
      name: 'late',
      source: { format: 'csv', path: 'in.csv', batchRows: 500 },
      stages: [{ name: 'holds-exit', module: path.join(FIXTURE_STAGES, 'exit-gate.ts'), mode: 'inline', options: { exiting, release } }],
      sink: { format: 'csv', path: out },
    },
    'late.config.ts',
  );
  const run = start(['run', cfg, '--quiet', '--report', report, '--metrics', metrics]);
  await until('the run to reach its exit handlers', () => existsSync(exiting));
  const watcher = watcherOf(run.child.pid!);
  run.child.kill('SIGKILL');
  expect((await run.exit).signal).toBe('SIGKILL');
  const stderr = await run.closed;
  await until('the watcher to finish', () => !isAlive(watcher));
  expect(readReport(report).ok).toBe(true);
  expect(success(metrics)).toBe(1);
  expect(stderr).toContain(`died after committing its output (${out})`);
  expect(stderr).not.toContain('Nothing was committed');
});

it('killed right after the rename that commits, before anything after it (SLUICE_TEST_STOP_AT=after-commit): the report and the metrics say the output was committed, and it is whole', async () => {
  const [report, metrics, out] = [at('paused.json'), at('paused.prom'), at('out/paused.csv')];
  const cfg = ws.config(
    {
      name: 'paused',
      source: { format: 'csv', path: 'in.csv', batchRows: 500 },
      stages: [{ name: 'identity', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'inline' }],
      sink: { format: 'csv', path: out },
    },
    'paused.config.ts',
  );
  const run = start(['run', cfg, '--quiet', '--report', report, '--metrics', metrics], { SLUICE_TEST_STOP_AT: 'after-commit' });
  const pid = run.child.pid!;
  const state = () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
  await until('the run to stop itself after its rename', () => state() === 'T');
  const watcher = watcherOf(pid);
  run.child.kill('SIGKILL');
  expect((await run.exit).signal).toBe('SIGKILL');
  const stderr = await run.closed;
  await until('the watcher to finish', () => !isAlive(watcher));
  const r = readReport(report);
  expect(r).toMatchObject({ ok: false, committed: [out], error: { code: 'SLUICE_RUN_DIED' } });
  expect(r.error?.message).toContain(`died after committing its output (${out})`);
  expect(stderr).toContain('The output is complete and committed');
  expect(stderr).not.toContain('Nothing was committed');
  const families = parseOpenMetrics(readFileSync(metrics, 'utf8'));
  const value = (name: string) => families.get(name)!.samples[0].value;
  expect([value('sluice_run_success'), value('sluice_run_committed'), value('sluice_sink_rows')]).toEqual([0, 1, 1500]);
  // Read by another reader: the output is all there.
  expect(await duckRows(`SELECT count(*)::INTEGER AS n, sum(id)::INTEGER AS s FROM read_csv('${out}')`)).toEqual([{ n: 1500, s: (1499 * 1500) / 2 }]);
  // The next run on the same path takes over the dead run's lock and commits again.
  const next = start(['run', cfg, '--quiet', '--report', report]);
  expect((await next.exit).code).toBe(0);
  expect(readReport(report).ok).toBe(true);
});

it("no param (given with --set or a default taken from the environment) is on any command line of the run's processes", async () => {
  const { ready, release } = { ready: at('secret.ready'), release: at('secret.release') };
  const cfg = at('secret.config.ts');
  const stage = (name: string, module: string, mode: string, options: unknown) => ({ name, module: path.join(FIXTURE_STAGES, module), mode, options });
  const config = {
    name: 'secret',
    source: { format: 'csv', path: 'in.csv', batchRows: 100 },
    stages: [stage('gate', 'e2e-gate.ts', 'inline', { ready, release }), stage('t', 'e2e-slow.ts', 'thread', { ms: 0 }), stage('p', 'e2e-slow.ts', 'process', { ms: 0 })],
    sink: { format: 'csv', path: 'out/secret.csv' },
  };
  writeFileSync(
    cfg,
    `import { definePipeline } from 'sluice';\nexport default definePipeline({ ...${JSON.stringify(config)}, params: { token: { type: 'string' }, fromEnv: process.env.SLUICE_E2E_TOKEN ?? 'unset' } } as const);\n`,
  );
  const run = start(['run', cfg, '--quiet', '--set', 'token=SECRET-FROM-SET', '--report', at('secret.json')], { SLUICE_E2E_TOKEN: 'SECRET-FROM-ENV' });
  try {
    await until('the gate', () => existsSync(ready));
    const family = descendants(run.child.pid!);
    const lines = family.map((p) => `${p}: ${cmdline(p)}`);
    expect(lines.filter((l) => l.includes('watcher.cjs'))).toHaveLength(1);
    expect(family.length).toBeGreaterThanOrEqual(2); // the watcher and stage p's child at least
    // The root's own command line is what the user typed (--set token=…); nothing sluice starts repeats it.
    expect(lines.filter((l) => l.includes('SECRET'))).toEqual([]);
    expect(cmdline(run.child.pid!)).not.toContain('SECRET-FROM-ENV');
  } finally {
    writeFileSync(release, '');
  }
  expect((await run.exit).code).toBe(0);
  expect(readFileSync(at('secret.json'), 'utf8')).toContain('SECRET-FROM-ENV'); // the params did reach the run (and its report)
});
