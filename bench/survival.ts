/**
 * Section `survival` (issue 26): what keeping a nightly job alive costs. Whole runs of
 * `bin/sluice` on generated transactions (scripts/gen-data.ts), CPU seconds of the whole process
 * tree beside wall (the machine may be shared: CPU-s say more than wall there), medians.
 *
 * (a) The machinery when nothing fails: the nightly job as bench/nightly.config.ts runs it (clean
 *     inline, pseudonymise thread × 2, aggregate process; batches of 65 536 rows) over `files`
 *     input files, all off against two contenders, interleaved: onError 'dead-letter' (source and
 *     stages, an NDJSON dead-letter output) + retries 2 + timeout; and the same with unit commits
 *     (resumable: a unit committed per input file), which is everything on, as a night runs it.
 * (b) A crash: the whole nightly job (with the aggregate) and a pass-through process stage × 2
 *     first (retries 2), whose child SIGKILLs itself once, on batch #k; against the same job
 *     with no crash, interleaved. The difference is the time to recover the lost batch
 *     (expected: a child's start-up plus the batch), and the run's report must say 1 retry.
 * (c) Resume: a resumable run killed (SIGKILL of its whole process group) once half its units
 *     are committed (SLUICE_TEST_STOP_AT stops it there, so the kill is at a known place, with
 *     no timing), then `--resume`: the time from the process's start to its first newly
 *     committed unit, against a fresh run's time to its first unit; interleaved.
 * The outputs of contenders that must agree are compared (polars reads them).
 * SLUICE_BENCH_SURVIVAL=a,b,c (bench only) runs some of the three parts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pl from 'nodejs-polars';
import { generate } from '../scripts/gen-data';
import { fmt, interleaved, median, pairedRatio, ROOT, target, type Contender, type Measured } from './lib';

const BIN = path.join(ROOT, 'bin/sluice');
/** A difference with its sign (on a loaded machine a crashed run's wall can come out below the clean one's). */
export const signed = (n: number) => `${n >= 0 ? '+' : '−'}${fmt(Math.abs(n))}`;
/** (b) and (c): small batches, so a lost batch is a small part of the run. */
const BATCH_ROWS = 4_096;
/** (a): the nightly job's own batch size (bench/nightly.config.ts). */
const NIGHTLY_BATCH_ROWS = 65_536;

export interface SurvivalResult {
  rows: number;
  files: number;
  rounds: number;
  overhead: { name: string; wall_s: number; cpu_s: number; wallRatio?: number; cpuRatio?: number; walls: number[]; cpus: number[] }[];
  crash?: { batch: number; clean: Measured; crashed: Measured; extraWall_s: number; extraCpu_s: number; retried: number[] };
  resume?: { rounds: number; killedAfter: number; freshFirstUnit_s: number; resumedFirstUnit_s: number; freshWall_s: number; resumedWall_s: number; firstUnits: { fresh: number[]; resumed: number[] } };
}

interface Job {
  onError?: 'skip' | 'dead-letter';
  /** Where `onError` applies: the source and the stages (default), or one of them (a switch alone). */
  onErrorAt?: 'source' | 'stages';
  /** retries 2 and timeout on the stages that take them (true), or one of the two alone. */
  recovery?: boolean | 'retries' | 'timeout';
  resumable?: boolean;
  crash?: { firstId: number; marker: string };
  aggregate?: boolean;
  batchRows?: number;
  input: string;
  output: string;
}

/** The nightly job as a config file in `dir` (absolute paths: it lives beside its inputs). */
function writeJob(dir: string, name: string, job: Job): string {
  const onError = job.onError && job.onErrorAt !== 'source' ? { onError: job.onError } : {};
  const sourceOnError = job.onError && job.onErrorAt !== 'stages' ? { onError: job.onError } : {};
  const timeout = job.recovery === true || job.recovery === 'timeout';
  const retry = { ...((job.recovery === true || job.recovery === 'retries') && { retries: 2 }), ...(timeout && { timeout: '60s' }) };
  const stages: object[] = [
    ...(job.crash ? [{ name: 'crash', module: path.join(__dirname, 'stages/crash-once.ts'), mode: 'process', concurrency: 2, retries: 2, timeout: '60s', options: job.crash }] : []),
    // An inline stage has no copy to replace: a timeout, no retries.
    { name: 'clean', module: path.join(ROOT, 'stages/clean.ts'), mode: 'inline', ...onError, ...(timeout && { timeout: '60s' }) },
    {
      name: 'pseudonymise',
      module: path.join(ROOT, 'stages/pseudonymise.ts'),
      mode: 'thread',
      concurrency: 2,
      ...onError,
      ...retry,
      options: { salt: 'bench-salt', columns: ['customer_id'], drop: ['email'], algorithm: 'salted-sha256' },
    },
    // The aggregate keeps state: a lost copy cannot be replaced (no retries), as bench/nightly.config.ts runs it.
    ...(job.aggregate ? [{ name: 'aggregate', module: path.join(ROOT, 'stages/aggregate.ts'), mode: 'process', concurrency: 1, ...onError }] : []),
  ];
  const config = {
    name: `bench-survival-${name}`,
    source: { format: 'csv', path: job.input, batchRows: job.batchRows ?? BATCH_ROWS, schema: { customer_id: 'utf8' }, ...sourceOnError },
    stages,
    sink: { format: 'parquet', path: job.output },
    ...(job.onError === 'dead-letter' && { deadLetter: { format: 'ndjson', path: `${job.output}.rejects.ndjson` } }),
    ...(job.resumable && { resumable: true }),
  };
  const file = path.join(dir, `${name}.config.ts`);
  writeFileSync(file, `import { definePipeline } from 'sluice';\nexport default definePipeline(${JSON.stringify(config, null, 2)} as const);\n`);
  return file;
}

const cmd = (config: string, ...more: string[]) => [BIN, 'run', config, '--quiet', '--log-level', 'warn', ...more];
/** Whether two Parquet outputs hold the same rows in the same order (every run here is ordered). */
const sameRows = (a: string, b: string) => JSON.stringify(pl.readParquet(a).toRecords()) === JSON.stringify(pl.readParquet(b).toRecords());

/**
 * Each switch alone (SLUICE_BENCH_SURVIVAL_SWITCHES=1): which one costs what. Five more
 * contenders per round, so a run of (a) takes 2.7× as long.
 */
const SWITCHES: [string, Omit<Job, 'input' | 'output'>][] = [
  ["source onError 'dead-letter' alone", { onError: 'dead-letter', onErrorAt: 'source' }],
  ["stages' onError 'dead-letter' alone", { onError: 'dead-letter', onErrorAt: 'stages' }],
  ['retries 2 alone', { recovery: 'retries' }],
  ['timeout alone', { recovery: 'timeout' }],
  ['unit commits alone', { resumable: true }],
];

/** (a) Overhead when nothing fails. */
function overhead(work: string, files: string, rounds: number): SurvivalResult['overhead'] {
  const out = (n: string) => path.join(work, 'out-a', `${n}.parquet`);
  const nightly = { aggregate: true, batchRows: NIGHTLY_BATCH_ROWS };
  const jobs: [string, Job][] = [
    ['all off', { ...nightly, input: files, output: out('off') }],
    ["onError 'dead-letter' + retries 2 + timeout", { ...nightly, onError: 'dead-letter', recovery: true, input: files, output: out('dead') }],
    ["onError 'dead-letter' + retries 2 + timeout + unit commits (everything on)", { ...nightly, onError: 'dead-letter', recovery: true, resumable: true, input: files, output: out('units') }],
    ...(process.env.SLUICE_BENCH_SURVIVAL_SWITCHES === '1' ? SWITCHES.map(([name, job], k): [string, Job] => [name, { ...nightly, ...job, input: files, output: out(`switch${k}`) }]) : []),
  ];
  const contenders: Contender[] = jobs.map(([name, job], i) => ({ name, cmd: cmd(writeJob(work, `a${i}`, job)) }));
  const { medians, all } = interleaved(contenders, rounds);
  for (const [, job] of jobs.slice(1)) if (!sameRows(out('off'), job.output)) throw new Error(`survival (a): ${job.output} differs from the run with everything off`);
  const walls = all.map((ms) => ms.map((m) => m.wall_s));
  const cpus = all.map((ms) => ms.map((m) => m.cpu_s));
  const rows = contenders.map((c, i) => ({
    name: c.name,
    wall_s: medians[i].wall_s,
    cpu_s: medians[i].cpu_s,
    wallRatio: pairedRatio(walls[i], walls[0]),
    cpuRatio: pairedRatio(cpus[i], cpus[0]),
    walls: walls[i],
    cpus: cpus[i],
  }));
  for (const r of rows) console.log(`  ${r.name}: wall ${fmt(r.wall_s)} s, CPU ${fmt(r.cpu_s)} s (medians of ${rounds}; walls ${r.walls.map((w) => fmt(w)).join(', ')}; CPU-s ${r.cpus.map((w) => fmt(w)).join(', ')})`);
  for (const r of rows.slice(1)) {
    const wall = 100 * (r.wallRatio - 1);
    const cpu = 100 * (r.cpuRatio - 1);
    // Judged pair by pair (pairedRatio); the machinery's own figure is what the goal names.
    if (SWITCHES.some(([name]) => name === r.name)) console.log(`  ${r.name}: ${signed(wall)} % wall, ${signed(cpu)} % CPU (median of ${rounds} paired ratios)`);
    else target(`survival: ${r.name} costs ≤ 5 % wall when nothing fails`, wall <= 5, `${signed(wall)} % wall, ${signed(cpu)} % CPU (medians of ${rounds} paired ratios)`);
  }
  return rows;
}

/** (b) One lost batch. */
function crash(work: string, file: string, rows: number, rounds: number): SurvivalResult['crash'] {
  const batch = Math.floor(rows / BATCH_ROWS / 2); // the middle batch
  const firstId = batch * BATCH_ROWS + 1; // txn_id counts from 1
  const marker = path.join(work, 'crash.marker');
  const out = (n: string) => path.join(work, 'out-b', `${n}.parquet`);
  const report = (n: string) => path.join(work, `b-${n}.report.json`);
  const contenders: Contender[] = [
    { name: 'no crash', cmd: cmd(writeJob(work, 'b-clean', { input: file, output: out('clean'), aggregate: true, crash: { firstId: -1, marker } }), '--report', report('clean')) },
    { name: 'a child SIGKILLs itself once', cmd: cmd(writeJob(work, 'b-crash', { input: file, output: out('crash'), aggregate: true, crash: { firstId, marker } }), '--report', report('crash')) },
  ];
  const retried: number[] = [];
  // The marker goes before each crashing run, so each crashes once; the report says whether it did.
  const runs = contenders.map((c, i) => ({ ...c, cmd: i === 1 ? ['sh', '-c', `rm -f '${marker}' && exec "$@"`, 'sh', ...c.cmd] : c.cmd }));
  const { medians } = interleaved(runs, rounds, (i) => {
    if (i !== 1) return;
    const r = JSON.parse(readFileSync(report('crash'), 'utf8')) as { stages: { name: string; retries?: { retried: number } }[] };
    retried.push(r.stages.find((s) => s.name === 'crash')?.retries?.retried ?? 0);
  });
  if (!sameRows(out('clean'), out('crash'))) throw new Error('survival (b): the output after the crash differs from the run without it');
  if (retried.some((n) => n < 1)) throw new Error(`survival (b): a crashing run reported no retry (${retried.join(', ')})`);
  const [clean, crashed] = medians;
  const result = { batch, clean, crashed, extraWall_s: crashed.wall_s - clean.wall_s, extraCpu_s: crashed.cpu_s - clean.cpu_s, retried };
  console.log(`  no crash: wall ${fmt(clean.wall_s)} s, CPU ${fmt(clean.cpu_s)} s; one crash on batch #${batch}: wall ${fmt(crashed.wall_s)} s, CPU ${fmt(crashed.cpu_s)} s (medians of ${rounds}); recovering the batch: ${signed(result.extraWall_s)} s wall, ${signed(result.extraCpu_s)} s CPU; batches retried per run: ${retried.join(', ')}`);
  return result;
}

/** Seconds from `t0` (epoch ms) to the first log line `msg` in a debug log on stderr. */
function firstLog(stderr: string, msg: string, t0: number): number {
  const at = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; time?: number })
    .filter((l) => l.msg === msg)
    .map((l) => l.time ?? Infinity);
  if (!at.length) throw new Error(`survival (c): no "${msg}" in the run's log:\n${stderr.slice(-1500)}`);
  return (Math.min(...at) - t0) / 1000;
}

/** Runs `args`, timing it; the time to its first committed unit from its debug log. */
function timedRun(args: string[], env: NodeJS.ProcessEnv = {}): { wall: number; firstUnit: number } {
  const t0 = Date.now();
  const r = spawnSync(args[0], args.slice(1), { env: { ...process.env, NODE_OPTIONS: '', ...env }, encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = (Date.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`survival (c): ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return { wall, firstUnit: firstLog(r.stderr, 'unit committed', t0) };
}

/** Start a resumable run that stops itself (SIGSTOP) once unit `k` is committed, then SIGKILL its whole process group. */
async function killedAt(config: string, k: number): Promise<void> {
  const child = spawn(BIN, ['run', config, '--quiet', '--restart'], { detached: true, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '', SLUICE_TEST_STOP_AT: `unit-${k}` } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid!;
  // Wait for the stop (a condition, polled), then kill the tree as `kill -9` of a job would.
  for (;;) {
    let state = '';
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat[stat.lastIndexOf(')') + 2];
    } catch {
      throw new Error('survival (c): the run ended before it was stopped');
    }
    if (state === 'T') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  process.kill(-pid, 'SIGKILL');
  await exited;
}

/** (c) Resume after a kill. */
export async function resume(work: string, files: string, count: number, rounds: number): Promise<SurvivalResult['resume']> {
  const k = Math.floor(count / 2);
  const fresh = writeJob(work, 'c-fresh', { input: files, output: path.join(work, 'out-c', 'fresh.parquet'), resumable: true });
  const resumed = writeJob(work, 'c-resumed', { input: files, output: path.join(work, 'out-c', 'resumed.parquet'), resumable: true });
  const debug = (config: string, ...more: string[]) => [BIN, 'run', config, '--quiet', '--log-level', 'debug', ...more];
  const runs: { fresh: { wall: number; firstUnit: number }[]; resumed: { wall: number; firstUnit: number }[] } = { fresh: [], resumed: [] };
  timedRun(debug(fresh, '--restart')); // warm-up: the page cache
  for (let r = 0; r < rounds; r++) {
    runs.fresh.push(timedRun(debug(fresh, '--restart')));
    await killedAt(resumed, k);
    runs.resumed.push(timedRun(debug(resumed, '--resume')));
  }
  if (!sameRows(path.join(work, 'out-c', 'fresh.parquet'), path.join(work, 'out-c', 'resumed.parquet'))) throw new Error('survival (c): the resumed output differs from the uninterrupted one');
  const med = (xs: { wall: number; firstUnit: number }[], k2: 'wall' | 'firstUnit') => median(xs.map((x) => x[k2]));
  const result = {
    rounds,
    killedAfter: k,
    freshFirstUnit_s: med(runs.fresh, 'firstUnit'),
    resumedFirstUnit_s: med(runs.resumed, 'firstUnit'),
    freshWall_s: med(runs.fresh, 'wall'),
    resumedWall_s: med(runs.resumed, 'wall'),
    firstUnits: { fresh: runs.fresh.map((x) => x.firstUnit), resumed: runs.resumed.map((x) => x.firstUnit) },
  };
  console.log(
    `  first unit committed: fresh run ${fmt(result.freshFirstUnit_s)} s after its start; resumed after a kill at unit ${k} of ${count}: ${fmt(result.resumedFirstUnit_s)} s (medians of ${rounds}); whole runs ${fmt(result.freshWall_s)} s fresh, ${fmt(result.resumedWall_s)} s resumed`,
  );
  return result;
}

export async function survival(rows: number, rounds: number, files = 10): Promise<SurvivalResult> {
  const work = path.join(os.tmpdir(), `sluice-bench-survival-${process.pid}`);
  mkdirSync(path.join(work, 'in'), { recursive: true });
  try {
    for (let i = 0; i < files; i++) await generate({ rows: Math.ceil(rows / files), out: path.join(work, 'in', `t${String(i).padStart(3, '0')}.csv`), seed: 42 + i, days: 7 });
    const one = path.join(work, 'one.csv');
    await generate({ rows, out: one, seed: 42, days: 7 });
    const glob = path.join(work, 'in', '*.csv');
    const parts = (process.env.SLUICE_BENCH_SURVIVAL ?? 'a,b,c').split(',');
    console.log(`  (a) the machinery when nothing fails: ${rows.toLocaleString('en-US')} rows in ${files} files, batches of ${NIGHTLY_BATCH_ROWS}`);
    const a = parts.includes('a') ? overhead(work, glob, rounds) : [];
    console.log(`  (b) one crash: ${rows.toLocaleString('en-US')} rows in one file, batches of ${BATCH_ROWS}`);
    const b = parts.includes('b') ? crash(work, one, rows, rounds) : undefined;
    console.log(`  (c) resume: ${files} files`);
    // Three rounds: each is a fresh run, a killed run and a resumed one.
    const c = parts.includes('c') ? await resume(work, glob, files, Math.min(rounds, 3)) : undefined;
    return { rows, files, rounds, overhead: a, crash: b, resume: c };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
