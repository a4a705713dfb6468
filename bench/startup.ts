/**
 * Start-up: fresh `sluice` processes, as a user starts them. `--help`, `validate` of the example
 * config, and the example job (`npm start`), whose start-up is split from its report: `before
 * the run` is the CLI, the config and the checks (wall − the report's duration), `start-up` the
 * report's (sink, source thread, every stage copy ready). Built (dist/, what the package runs)
 * and from source (SLUICE_FROM_SOURCE=1: src/ through tsx) side by side, interleaved.
 *
 * Then what each kind of process and thread costs to start: a two-row CSV → Parquet run with
 * no stage, one inline, one thread and one process stage (so each row's CPU over the first
 * is one stage copy's boot), and `validate` of a config tsx has not seen (a new file every
 * round: its transform misses tsx's cache, as in every e2e test). CPU is shown against a bare
 * `node -e 0` measured in the same rounds (the `× node` column): on a busy machine both
 * stretch alike, so the ratio shows a regression where the milliseconds are noise.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, measure, median, ROOT, target } from './lib';

interface Case {
  name: string;
  args: string[];
  /** A command instead of `sluice <args>` (the bare node baseline). */
  cmd?: string[];
  /** Runs before each measurement (writes the new config). */
  before?: (round: number) => void;
  env?: NodeJS.ProcessEnv;
  /** Reads the run report after each run. */
  report?: boolean;
}

export interface StartupRow {
  name: string;
  wallMs: number;
  cpuMs: number;
  /** Median CPU over the median CPU of `node -e 0` in the same rounds. */
  cpuXNode: number;
  /** Example job only: medians of the report's start-up and of wall − duration. */
  startupMs?: number;
  beforeRunMs?: number;
}

export function startup(runs: number): StartupRow[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-startup-'));
  const reportFile = path.join(dir, 'report.json');
  const job = ['run', 'pipeline.config.ts', '--quiet', '--log-level', 'warn', '--sink-path', path.join(dir, 'out.parquet'), '--report', reportFile];
  const fromSource = { SLUICE_FROM_SOURCE: '1' };
  writeFileSync(path.join(dir, 'in.csv'), 'id,name\n1,a\n2,b\n');
  const pass = path.join(ROOT, 'bench/stages/pass.ts');
  const tiny = (mode?: string) => {
    const file = path.join(dir, `tiny-${mode ?? 'none'}.config.ts`);
    const stages = mode ? `[{ name: 'pass', module: ${JSON.stringify(pass)}, mode: '${mode}', concurrency: 1 }]` : '[]';
    writeFileSync(file, `export default { name: 'tiny', source: { format: 'csv', path: 'in.csv' }, stages: ${stages}, sink: { format: 'parquet', path: 'out-${mode ?? 'none'}.parquet' } };\n`);
    return ['run', file, '--quiet'];
  };
  const fresh = path.join(dir, 'fresh.config.ts');
  const cases: Case[] = [
    { name: 'node -e 0', args: [], cmd: [process.execPath, '-e', '0'] },
    { name: 'sluice --help', args: ['--help'] },
    { name: 'sluice --help (from source)', args: ['--help'], env: fromSource },
    { name: 'sluice validate (example)', args: ['validate', 'pipeline.config.ts'] },
    { name: 'example job', args: job, report: true },
    { name: 'example job (from source)', args: job, env: fromSource, report: true },
    { name: 'tiny run, no stage', args: tiny() },
    { name: 'tiny run, inline stage', args: tiny('inline') },
    { name: 'tiny run, thread stage', args: tiny('thread') },
    { name: 'tiny run, process stage', args: tiny('process') },
    {
      name: 'validate (a config tsx has not seen)',
      args: ['validate', fresh],
      before: (round) => writeFileSync(fresh, `// ${process.pid} ${round} ${Date.now()}\nexport default { name: 'fresh', source: { format: 'csv', path: ${JSON.stringify(path.join(dir, 'in.csv'))} }, stages: [], sink: { format: 'csv', path: 'out.csv' } };\n`),
    },
  ];
  const samples = cases.map(() => ({ wall: [] as number[], cpu: [] as number[], startup: [] as number[], before: [] as number[] }));
  try {
    for (let round = -1; round < runs; round++) {
      cases.forEach((c, i) => {
        c.before?.(round);
        const m = measure(c.cmd ?? [path.join(ROOT, 'bin/sluice'), ...c.args], { ...c.env, NODE_OPTIONS: '' });
        if (round < 0) return; // warm-up: page cache, tsx's transform cache
        const s = samples[i];
        s.wall.push(m.wall_s * 1000);
        s.cpu.push(m.cpu_s * 1000);
        if (c.report) {
          const r = JSON.parse(readFileSync(reportFile, 'utf8')) as { startupMs: number; durationMs: number };
          s.startup.push(r.startupMs);
          s.before.push(m.wall_s * 1000 - r.durationMs);
        }
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const nodeCpu = median(samples[0].cpu);
  const rows = cases.map((c, i): StartupRow => {
    const s = samples[i];
    const row: StartupRow = { name: c.name, wallMs: median(s.wall), cpuMs: median(s.cpu), cpuXNode: median(s.cpu) / nodeCpu };
    if (c.report) Object.assign(row, { startupMs: median(s.startup), beforeRunMs: median(s.before) });
    console.log(`  ${c.name.padEnd(38)} wall ${fmt(row.wallMs, 0).padStart(6)} ms  CPU ${fmt(row.cpuMs, 0).padStart(6)} ms (${fmt(row.cpuXNode, 1).padStart(4)} × node)${row.startupMs === undefined ? '' : `  before the run ${fmt(row.beforeRunMs!, 0)} ms, start-up ${fmt(row.startupMs, 0)} ms`}`);
    return row;
  });
  const help = rows[1];
  const example = rows[4];
  target('`sluice --help` under 0.3 s', help.wallMs < 300, `${fmt(help.wallMs, 0)} ms (median of ${runs}; CPU ${fmt(help.cpuMs, 0)} ms)`);
  // Two readings of "start-up". The issue's: what the run itself waits for, loading the TS
  // loader, polars and apache-arrow in every thread and child (the report's: sink, source, every
  // copy ready; copies booted beside the checks count only for what is left). A stricter one
  // of ours: the whole wait from the command, which also holds node, the CLI, the config and
  // its checks (about 1 s of main-thread CPU on two cores that the copies' boot shares).
  target('example job: the run\'s start-up (the report\'s) under 0.5 s', example.startupMs! < 500, `${fmt(example.startupMs!, 0)} ms (median of ${runs})`);
  const toReady = example.beforeRunMs! + example.startupMs!;
  target('example job, stricter reading: from the command to every copy ready under 0.5 s', toReady < 500, `${fmt(toReady, 0)} ms (CLI, config and checks ${fmt(example.beforeRunMs!, 0)} ms + the report's start-up ${fmt(example.startupMs!, 0)} ms; median of ${runs})`);
  return rows;
}
