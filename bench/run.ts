/**
 * `npm run bench`: every benchmark in one process tree; medians after warm-up; ratios from
 * the same run. Writes bench/results/<date>.json and .md (+ an SVG chart) and prints every
 * target as met / not met.
 *   npm run bench -- [--quick] [--only handoff,cpu,scheduler,strings,e2e,obvious,polars,keyed,convert,memory,startup,graph,survival,cluster] [--rows N] [--units U] [--flights-rows N] [--runs R] [--rounds K]
 *   npm run bench -- --baseline <rev> [--pairs N] --only <sections> [...]: the sections here and in
 *     a temporary worktree of <rev>, in interleaved pairs, ratio per pair (bench/baseline.ts)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { handoffChart } from './chart';
import { conversion, endToEnd, memory } from './e2e';
import { handoff, label } from './handoff';
import { fmt, targets } from './lib';
import { cpuBound, schedulerOverhead, strings } from './pipelines';
import { startup, type StartupRow } from './startup';
import { obvious } from './obvious';
import { graph } from './graph';
import { keyed } from './keyed';
import { againstBaseline } from './baseline';
import { polarsJob } from './polars';
import { signed, survival, type SurvivalResult } from './survival';
import { cluster, clusterMarkdown, type ClusterResult } from './cluster';

const ALL = ['handoff', 'cpu', 'scheduler', 'strings', 'e2e', 'obvious', 'polars', 'keyed', 'convert', 'memory', 'startup', 'graph', 'survival', 'cluster'];

async function main() {
  const argv = yargs(hideBin(process.argv))
    .option('quick', { type: 'boolean', default: false, describe: 'small sizes, one run: a smoke test' })
    .option('only', { type: 'string', describe: `comma-separated subset of ${ALL.join(',')}` })
    .option('rows', { type: 'number', describe: 'rows of the end-to-end CSV (default 10 000 000; 200 000 with --quick)' })
    .option('memory-rows', { type: 'number', describe: 'rows of the 1× memory input (4× is also run; default 10 000 000: 1 GB, so 4× is the 4 GB conversion)' })
    .option('flights-rows', { type: 'number', describe: 'rows of the vega-datasets flights for the polars job (default 1 000 000, 200 000 with --quick; 3000000: the whole file)' })
    .option('runs', { type: 'number', describe: 'timed runs per figure (median); default 5, 1 with --quick' })
    .option('rounds', { type: 'number', describe: 'interleaved rounds of the whole-program benchmarks (e2e, convert, memory; median); default 3, 1 with --quick' })
    .option('units', { type: 'number', describe: 'cluster: input files (units) of the nightly case (default 8; --rows is split among them, default 800 000)' })
    .option('baseline', { type: 'string', describe: 'a git revision: run the chosen sections here and there in interleaved pairs (bench/baseline.ts)' })
    .option('pairs', { type: 'number', default: 3, describe: 'with --baseline: pairs to run (median of the ratios)' })
    .strict()
    .parseSync();
  if (argv.baseline) {
    if (!argv.only) throw new Error('--baseline needs --only <sections>: every section twice per pair is hours');
    // The same options for both sides, less the comparison's own.
    const args = hideBin(process.argv).filter((a, i, all) => !/^--(baseline|pairs)(=|$)/.test(a) && !/^--(baseline|pairs)$/.test(all[i - 1] ?? ''));
    await againstBaseline(argv.baseline, argv.pairs, args);
    return;
  }
  const only = new Set((argv.only ?? ALL.join(',')).split(','));
  const runs = argv.runs ?? (argv.quick ? 1 : 5);
  const rounds = argv.rounds ?? (argv.quick ? 1 : 3);
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}` };
  console.log(`sluice bench on ${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, Node ${machine.node}${argv.quick ? ' (quick)' : ''}`);
  const results: Record<string, unknown> = {};
  const section = async (name: string, title: string, fn: () => Promise<unknown>) => {
    if (!only.has(name)) return;
    console.log(`\n${title}`);
    results[name] = await fn();
  };
  await section('handoff', '1. Hand-off: a batch to a stage and back', () => handoff(argv.quick, runs));
  await section('cpu', '2. CPU-bound stage: inline vs thread×k vs process×k', () => cpuBound(argv.quick, runs));
  await section('scheduler', '4. Scheduler overhead', () => schedulerOverhead(argv.quick, runs));
  await section('strings', '6. Strings: ctx.strings vs toArray()', () => strings(runs));
  await section('e2e', '3. End-to-end nightly job vs peers', () => endToEnd(argv.rows ?? (argv.quick ? 200_000 : 10_000_000), rounds));
  await section('obvious', '3b. Stages written the obvious way (toArray, createHash per row, tableFromArrays) vs Python Pool(2) and DuckDB', () => obvious(argv.rows ?? (argv.quick ? 200_000 : 3_000_000), rounds));
  await section('polars', '3d. The newcomer\'s polars-shaped job (clean, join, aggregate with flush, partitioned Parquet) vs one lazy nodejs-polars script and DuckDB', () =>
    polarsJob(argv['flights-rows'] ?? (argv.quick ? 200_000 : 1_000_000), rounds),
  );
  await section('keyed', '3c. A per-key aggregate with flush: keyed × 2 vs one copy vs combine × 2, and the split vs the stage\'s work', () => keyed(argv.rows ?? (argv.quick ? 100_000 : 300_000), rounds, runs));
  await section('convert', '5a. Plain CSV → Parquet vs DuckDB and polars', () => conversion(argv.rows ?? (argv.quick ? 200_000 : 10_000_000), rounds));
  await section('startup', '7. Start-up: fresh sluice processes (--help, validate, the example job, a tiny run per stage mode), against node -e 0', async () => startup(argv.runs ?? (argv.quick ? 2 : 10)));
  await section('graph', '8. Several outputs in one pass (events + daily totals) vs two separate runs', () => graph(argv.rows ?? (argv.quick ? 200_000 : 2_000_000), rounds));
  await section('survival', '9. Survival: onError, retries, timeout and unit commits when nothing fails; one crash; resume after a kill', () =>
    survival(argv.rows ?? (argv.quick ? 50_000 : 200_000), argv.quick ? 1 : Math.max(5, rounds)),
  );
  await section('cluster', '10. Cluster: embedded vs --cluster local:1 (warm and cold workers) vs local:2; per-unit start-up, queue and commit', () =>
    cluster(argv.rows ?? (argv.quick ? 80_000 : 800_000), argv.units ?? 8, argv.quick ? 1 : rounds),
  );
  await section('memory', '5. Memory: pass-through CSV → Parquet at 1× and 4×', () => memory(argv['memory-rows'] ?? (argv.quick ? 100_000 : 10_000_000), rounds));

  const date = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const report = { date, machine, quick: argv.quick, runs, rounds, results, targets };
  writeFileSync(path.join(dir, `${date}.json`), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(path.join(dir, `${date}.md`), markdown(report));
  if (results.cluster) writeFileSync(path.join(dir, `${date}-cluster.md`), [`# sluice bench ${date}: cluster`, '', `Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, Node ${machine.node}; load average at the start ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}.`, '', ...clusterMarkdown(results.cluster as ClusterResult)].join('\n'));
  const handoffRows = results.handoff as Parameters<typeof handoffChart>[0] | undefined;
  if (handoffRows) writeFileSync(path.join(dir, `${date}-handoff.svg`), handoffChart(handoffRows));
  console.log(`\n${targets.filter((t) => t.met).length} of ${targets.length} targets met; results in bench/results/${date}.{json,md}`);
}

function markdown(r: { date: string; machine: Record<string, unknown>; results: Record<string, any>; targets: typeof targets; quick: boolean; runs: number; rounds: number }): string {
  const lines = [
    `# sluice bench ${r.date}${r.quick ? ' (quick)' : ''}`,
    '',
    `Machine: ${r.machine.cpus} × ${r.machine.cpu}, ${r.machine.memGiB} GiB, Node ${r.machine.node}. In-process figures: medians of ${r.runs} runs after a warm-up; whole programs (end-to-end, conversion, memory): medians of ${r.rounds} interleaved rounds after a warm-up run.`,
    '',
  ];
  lines.push('| target | figure | |', '|---|---|---|', ...r.targets.map((t) => `| ${t.name} | ${t.figure} | ${t.met ? 'met' : 'not met'} |`), '');
  if (r.results.handoff) {
    lines.push('## Hand-off (round trip)', '', '| batch | thread µs | process µs | process GB/s | structured clone µs | thread bytes copied |', '|---|---|---|---|---|---|');
    for (const h of r.results.handoff) lines.push(`| ${label(h.bytes)} | ${fmt(h.threadUs)} | ${fmt(h.processUs)} | ${fmt((2 * h.bytes) / (h.processUs * 1000))} | ${fmt(h.cloneUs)} | ${h.threadBytesCopied} |`);
    lines.push('', `![hand-off](${r.date}-handoff.svg)`, '');
  }
  if (r.results.cpu) {
    const c = r.results.cpu;
    const labels: Record<string, string> = { sha256: '8 rounds of sha256 (node:crypto)', js: '3 rounds of a JavaScript FNV hash' };
    for (const [key, ms] of Object.entries<Record<string, number>>(c.ms)) {
      const inline = ms['inline×1'];
      lines.push(`## CPU-bound stage: ${labels[key] ?? key} (${c.rows.toLocaleString('en-US')} rows; time after start-up)`, '', '| mode | ms | speedup | efficiency |', '|---|---|---|---|');
      for (const [k, v] of Object.entries(ms)) lines.push(`| ${k} | ${fmt(v)} | ${fmt(inline / v)}× | ${fmt((100 * inline) / v / Number(k.split('×')[1]), 0)}% |`);
      lines.push('');
    }
    for (const [key, b] of Object.entries<{ one: number; threads: number; processes: number }>(c.bare)) {
      lines.push(`The ${labels[key] ?? key} work without sluice (timed once every part is loaded): 1 thread ${fmt(b.one)} ms, 2 worker threads ${fmt(b.threads)} ms (${fmt(b.one / b.threads)}×), 2 processes ${fmt(b.processes)} ms (${fmt(b.one / b.processes)}×).`, '');
    }
  }
  if (r.results.e2e) {
    const e = r.results.e2e;
    const base = Math.min(...e.results.filter((c: { name: string }) => c.name.startsWith('sluice')).map((c: { wall_s: number }) => c.wall_s));
    lines.push(`## End-to-end nightly job (${e.rows.toLocaleString('en-US')} rows, ${fmt(e.inputMB, 0)} MB CSV)`, '', '| contender | wall s | CPU s | peak RSS MB | × best sluice wall | answer |', '|---|---|---|---|---|---|');
    for (const c of e.results) lines.push(`| ${c.name} | ${fmt(c.wall_s)} | ${fmt(c.cpu_s)} | ${fmt(c.max_rss_mb, 0)} | ${fmt(c.wall_s / base)} | ${c.answer} |`);
    lines.push('', 'Peak RSS is that of the largest single process of the tree (sluice: main process incl. its threads).', '');
  }
  if (r.results.polars) {
    const p = r.results.polars;
    const lazy = p.results[0];
    lines.push(`## The newcomer's polars job (${p.rows.toLocaleString('en-US')} vega-datasets flights)`, '', '| contender | wall s | CPU s | peak RSS MB | × script CPU | answer |', '|---|---|---|---|---|---|');
    for (const c of p.results) lines.push(`| ${c.name} | ${fmt(c.wall_s)} | ${fmt(c.cpu_s)} | ${fmt(c.max_rss_mb, 0)} | ${fmt(c.cpu_s / lazy.cpu_s)} | ${c.answer} |`);
    lines.push('');
  }
  if (r.results.convert) {
    lines.push(`## Plain CSV → Parquet (${r.results.convert.rows.toLocaleString('en-US')} rows)`, '', '| tool | wall s | CPU s | peak RSS MB |', '|---|---|---|---|');
    for (const c of r.results.convert.results) lines.push(`| ${c.name} | ${fmt(c.wall_s)} | ${fmt(c.cpu_s)} | ${fmt(c.max_rss_mb, 0)} |`);
    lines.push('');
  }
  if (r.results.scheduler) {
    const s = r.results.scheduler;
    lines.push('## Scheduler overhead', '', `${s.batches} one-row batches through the scheduler (in-memory source and sink): ${fmt(s.baseMs)} ms with no stage, ${fmt(s.fiveStagesMs)} ms with 5 no-op inline stages: **${fmt(s.usPerBatchPerStage)} µs per batch per stage**.`, '');
  }
  if (r.results.strings) {
    lines.push('## Strings', '', '| column as polars emits it | toArray() ns/value | ctx.strings ns/value | speedup |', '|---|---|---|---|');
    for (const [k, v] of Object.entries<any>(r.results.strings)) lines.push(`| ${k} | ${fmt(v.toArrayNs)} | ${fmt(v.readStringsNs)} | ${fmt(v.speedup)}× |`);
    lines.push('');
  }
  if (r.results.startup) {
    lines.push('## Start-up', '', 'Fresh `bin/sluice` processes, medians; CPU of the whole process tree. Example job: "before the run" is the CLI, config and checks (wall − the report\'s duration); "start-up" the report\'s.', '', '| case | wall ms | CPU ms | CPU × node -e 0 | before the run ms | start-up ms |', '|---|---|---|---|---|---|');
    for (const c of r.results.startup as StartupRow[]) lines.push(`| ${c.name} | ${fmt(c.wallMs, 0)} | ${fmt(c.cpuMs, 0)} | ${c.cpuXNode === undefined ? '' : fmt(c.cpuXNode, 1)} | ${c.beforeRunMs === undefined ? '' : fmt(c.beforeRunMs, 0)} | ${c.startupMs === undefined ? '' : fmt(c.startupMs, 0)} |`);
    lines.push('');
  }
  if (r.results.survival) lines.push(...survivalMarkdown(r.results.survival as SurvivalResult));
  if (r.results.cluster) lines.push(...clusterMarkdown(r.results.cluster as ClusterResult));
  if (r.results.memory) {
    const m = r.results.memory;
    lines.push('## Memory', '', `Pass-through CSV → Parquet (thread stage): peak RSS ${fmt(m.peaksMB[0], 0)} MB at ${m.rows1x.toLocaleString('en-US')} rows, ${fmt(m.peaksMB[1], 0)} MB at 4× (medians; the worst 4× round ${fmt(m.worst4xMB, 0)} MB).`, '');
  }
  return lines.join('\n');
}

function survivalMarkdown(s: SurvivalResult): string[] {
  const off = s.overhead[0];
  const pc = (a: number, b: number) => `${a >= b ? '+' : ''}${fmt((100 * (a - b)) / b, 1)} %`;
  return [
    `## Survival (${s.rows.toLocaleString('en-US')} generated transactions; medians of ${s.rounds} interleaved rounds; CPU-s of the whole process tree)`,
    '',
    `(a) The machinery when nothing fails: the nightly job (clean inline, pseudonymise thread × 2, aggregate process; batches of 65 536 rows) over ${s.files} files.`,
    '',
    'Judged pair by pair: the median of the per-round ratios to all off (both runs of a round share the machine\'s drift); the ratio of the medians beside it.',
    '',
    '| contender | wall s | CPU s | wall vs off, paired | CPU vs off, paired | wall vs off, medians | CPU vs off, medians |',
    '|---|---|---|---|---|---|---|',
    ...s.overhead.map((c) => {
      const paired = (r: number | undefined) => (c === off || r === undefined ? '' : pc(r, 1));
      return `| ${c.name} | ${fmt(c.wall_s)} | ${fmt(c.cpu_s)} | ${paired(c.wallRatio)} | ${paired(c.cpuRatio)} | ${c === off ? '' : pc(c.wall_s, off.wall_s)} | ${c === off ? '' : pc(c.cpu_s, off.cpu_s)} |`;
    }),
    '',
    s.crash && `(b) One crash: the whole nightly job behind a pass-through process stage × 2 (retries 2) whose child SIGKILLs itself once, on batch #${s.crash.batch}: ${fmt(s.crash.clean.wall_s)} s wall / ${fmt(s.crash.clean.cpu_s)} CPU-s without it, ${fmt(s.crash.crashed.wall_s)} s / ${fmt(s.crash.crashed.cpu_s)} CPU-s with it: recovering the batch costs **${signed(s.crash.extraWall_s)} s wall, ${signed(s.crash.extraCpu_s)} CPU-s** (output identical; batches retried per run: ${s.crash.retried.join(', ')}).`,
    '',
    s.resume && `(c) Resume: a resumable run killed (SIGKILL of its process group) after unit ${s.resume.killedAfter} of ${s.files}, then \`--resume\` (medians of ${s.resume.rounds}): its first new unit is committed **${fmt(s.resume.resumedFirstUnit_s)} s** after the process starts (a fresh run's first unit: ${fmt(s.resume.freshFirstUnit_s)} s); the whole resumed run ${fmt(s.resume.resumedWall_s)} s against ${fmt(s.resume.freshWall_s)} s fresh (output identical).`,
    '',
  ].filter((l): l is string => l !== undefined);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
