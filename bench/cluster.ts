/**
 * Section `cluster` (issue 27): the nightly job over units (one input file each) of generated
 * transactions (scripts/gen-data.ts), run embedded, on `--cluster local:1` with warm workers and
 * with cold ones (`--no-warm-workers`: every unit starts its copies), and on `local:2`. Whole
 * runs of `bin/sluice` (the built dist/), interleaved rounds, medians; CPU-s of the whole
 * process tree (driver, redis-server, workers, their threads and children) beside wall: the
 * machine has 2 cores, shared, so a second worker's scaling is bounded there and CPU-s say
 * more than wall.
 *
 * From each cluster run's report (--report JSON): per unit its wall time, start-up (copies
 * ready) and its worker's CPU, cold (the first unit a worker runs, or every unit without warm
 * copies) against warm; the queue's overhead per unit (on one worker, the gap from a unit's end
 * to the next one's start: BullMQ's hand-over, the result written, the next job fetched); the
 * commit job's time, per unit. A second, small case (many tiny units) shows the fixed cost per
 * unit alone. The job is the nightly one without its aggregate (a stage with flush runs in the
 * commit job, alone, which would measure the commit more than the units): clean inline,
 * pseudonymise thread × 2, one Parquet file.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from '../scripts/gen-data';
import { fmt, interleaved, median, ROOT, type Measured } from './lib';

const BIN = path.join(ROOT, 'bin/sluice');

interface UnitRow {
  unit: number;
  worker: string;
  ms: number;
  startedAt?: string;
  startupMs?: number;
  cpuMs?: number;
  warm?: boolean;
  attempts: number;
}

interface Report {
  durationMs: number;
  rows: number;
  units: UnitRow[];
  commit?: { ms: number };
}

export interface ClusterCase {
  name: string;
  units: number;
  rowsPerUnit: number;
  inputMB: number;
  /** The Parquet output's size (what the commit job copies into place). */
  outputMB: number;
  contenders: { name: string; wall_s: number; cpu_s: number; max_rss_mb: number }[];
  /** Per-unit figures from the cluster runs' reports (medians over every unit of every round). */
  perUnit: {
    name: string;
    coldMs?: number;
    warmMs?: number;
    coldStartupMs?: number;
    warmStartupMs?: number;
    coldCpuMs?: number;
    warmCpuMs?: number;
    queueGapMs?: number;
    commitMs?: number;
  }[];
}

export interface ClusterResult {
  cases: ClusterCase[];
  rounds: number;
}

function writeJob(dir: string, name: string, input: string, output: string): string {
  const config = {
    name: `bench-cluster-${name}`,
    source: { format: 'csv', path: input, batchRows: 65_536, schema: { customer_id: 'utf8' } },
    stages: [
      { name: 'clean', module: path.join(ROOT, 'stages/clean.ts'), mode: 'inline' },
      { name: 'pseudonymise', module: path.join(ROOT, 'stages/pseudonymise.ts'), mode: 'thread', concurrency: 2, options: { salt: 'bench-salt', columns: ['customer_id'], drop: ['email'], algorithm: 'salted-sha256' } },
    ],
    sink: { format: 'parquet', path: output },
  };
  const file = path.join(dir, `${name}.config.ts`);
  writeFileSync(file, `import { definePipeline } from 'sluice';\nexport default definePipeline(${JSON.stringify(config, null, 2)});\n`);
  return file;
}

async function oneCase(work: string, name: string, units: number, rowsPerUnit: number, rounds: number): Promise<ClusterCase> {
  const dir = path.join(work, name);
  const inputs = path.join(dir, 'in');
  mkdirSync(inputs, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < units; i++) {
    const out = path.join(inputs, `t${String(i).padStart(3, '0')}.csv`);
    await generate({ rows: rowsPerUnit, out, seed: 42 + i, days: 7 });
    bytes += readFileSync(out).length;
  }
  const glob = path.join(inputs, '*.csv');
  const reports = new Map<string, Report[]>();
  const contender = (label: string, args: string[]) => {
    const out = path.join(dir, `out-${label.replace(/\W+/g, '-')}.parquet`);
    const report = path.join(dir, `report-${label.replace(/\W+/g, '-')}.json`);
    const config = writeJob(dir, label.replace(/\W+/g, '-'), glob, out);
    return { name: label, cmd: [BIN, 'run', config, '--quiet', '--log-level', 'warn', '--report', report, ...args], report, out };
  };
  const cs = [
    contender('embedded', []),
    contender('local:1 warm', ['--cluster', 'local:1']),
    contender('local:1 cold (--no-warm-workers)', ['--cluster', 'local:1', '--no-warm-workers']),
    contender('local:2 warm', ['--cluster', 'local:2']),
  ];
  console.log(`  ${name}: ${units} units × ${rowsPerUnit.toLocaleString('en-US')} rows (${fmt(bytes / 2 ** 20, 1)} MB CSV), ${rounds} rounds`);
  const { medians } = interleaved(cs, rounds, (i) => {
    const c = cs[i];
    const list = reports.get(c.name) ?? reports.set(c.name, []).get(c.name)!;
    list.push(JSON.parse(readFileSync(c.report, 'utf8')) as Report);
  });
  const contenders = cs.map((c, i) => ({ name: c.name, ...pick(medians[i]) }));
  for (const c of contenders) console.log(`    ${c.name.padEnd(34)} ${fmt(c.wall_s).padStart(7)} s wall  ${fmt(c.cpu_s).padStart(7)} CPU-s`);
  const perUnit = cs.slice(1).map((c) => unitFigures(c.name, reports.get(c.name) ?? []));
  for (const p of perUnit) {
    console.log(
      `    ${p.name.padEnd(34)} unit cold ${fmtMs(p.coldMs)} (start-up ${fmtMs(p.coldStartupMs)}, CPU ${fmtMs(p.coldCpuMs)}), warm ${fmtMs(p.warmMs)} (start-up ${fmtMs(p.warmStartupMs)}, CPU ${fmtMs(p.warmCpuMs)}); queue gap ${fmtMs(p.queueGapMs)}; commit ${fmtMs(p.commitMs)}`,
    );
  }
  const outputMB = statSync(cs[1].out).size / 2 ** 20;
  return { name, units, rowsPerUnit, inputMB: bytes / 2 ** 20, outputMB, contenders, perUnit };
}

const fmtMs = (v: number | undefined) => (v === undefined ? '—' : `${fmt(v, 0)} ms`);
const pick = (m: Measured) => ({ wall_s: m.wall_s, cpu_s: m.cpu_s, max_rss_mb: m.max_rss_mb });
const med = (xs: number[]) => (xs.length ? median(xs) : undefined);

function unitFigures(name: string, reports: Report[]): ClusterCase['perUnit'][number] {
  const units = reports.flatMap((r) => r.units);
  const cold = units.filter((u) => u.warm === false);
  const warm = units.filter((u) => u.warm === true);
  // Per worker, units in start order: the gap from one's end to the next one's start (one unit at a time per worker).
  const gaps: number[] = [];
  for (const r of reports) {
    const byWorker = new Map<string, UnitRow[]>();
    for (const u of r.units) if (u.startedAt) (byWorker.get(u.worker) ?? byWorker.set(u.worker, []).get(u.worker)!).push(u);
    for (const list of byWorker.values()) {
      list.sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
      for (let i = 1; i < list.length; i++) gaps.push(Date.parse(list[i].startedAt!) - (Date.parse(list[i - 1].startedAt!) + list[i - 1].ms));
    }
  }
  return {
    name,
    coldMs: med(cold.map((u) => u.ms)),
    warmMs: med(warm.map((u) => u.ms)),
    coldStartupMs: med(cold.map((u) => u.startupMs ?? 0)),
    warmStartupMs: med(warm.map((u) => u.startupMs ?? 0)),
    coldCpuMs: med(cold.map((u) => u.cpuMs ?? 0)),
    warmCpuMs: med(warm.map((u) => u.cpuMs ?? 0)),
    queueGapMs: med(gaps),
    commitMs: med(reports.flatMap((r) => (r.commit ? [r.commit.ms] : []))),
  };
}

export async function cluster(rows: number, units: number, rounds: number): Promise<ClusterResult> {
  const work = path.join(os.tmpdir(), `sluice-bench-cluster-${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const cases = [await oneCase(work, 'tiny units', 12, 30, rounds), await oneCase(work, 'nightly units', units, Math.ceil(rows / units), rounds)];
    return { cases, rounds };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function clusterMarkdown(r: ClusterResult): string[] {
  const lines = [`## Cluster: embedded vs \`--cluster local:1\` (warm, cold) vs \`local:2\` (medians of ${r.rounds} interleaved rounds; CPU-s of the whole process tree)`, ''];
  for (const c of r.cases) {
    lines.push(`### ${c.name}: ${c.units} units × ${c.rowsPerUnit.toLocaleString('en-US')} rows (${fmt(c.inputMB, 1)} MB CSV in, ${fmt(c.outputMB, 1)} MB Parquet out)`, '', '| contender | wall s | CPU s | peak RSS MB |', '|---|---|---|---|');
    for (const x of c.contenders) lines.push(`| ${x.name} | ${fmt(x.wall_s)} | ${fmt(x.cpu_s)} | ${fmt(x.max_rss_mb, 0)} |`);
    lines.push('', '| cluster run | unit cold ms | start-up | CPU | unit warm ms | start-up | CPU | queue gap ms | commit ms |', '|---|---|---|---|---|---|---|---|---|');
    for (const p of c.perUnit) lines.push(`| ${p.name} | ${fmtMs(p.coldMs)} | ${fmtMs(p.coldStartupMs)} | ${fmtMs(p.coldCpuMs)} | ${fmtMs(p.warmMs)} | ${fmtMs(p.warmStartupMs)} | ${fmtMs(p.warmCpuMs)} | ${fmtMs(p.queueGapMs)} | ${fmtMs(p.commitMs)} |`);
    lines.push('');
  }
  lines.push('Unit figures: medians over every unit of every round, from the runs\' reports; "CPU" is the worker process\'s own (its threads, not redis-server or the driver); "queue gap": on one worker, from a unit\'s end to the next one\'s start.', '');
  return lines;
}
