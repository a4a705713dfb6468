/**
 * Start-up: fresh `sluice` processes, as a user starts them. `--help`, `validate` of the example
 * config, and the example job (`npm start`), whose start-up is split from its report: `before
 * the run` is the CLI, the config and the checks (wall − the report's duration), `start-up` the
 * report's (sink, source thread, every stage copy ready). Built (dist/, what the package runs)
 * and from source (SLUICE_FROM_SOURCE=1: src/ through tsx) side by side, interleaved.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, measure, median, ROOT, target } from './lib';

interface Case {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Reads the run report after each run. */
  report?: boolean;
}

export interface StartupRow {
  name: string;
  wallMs: number;
  cpuMs: number;
  /** Example job only: medians of the report's start-up and of wall − duration. */
  startupMs?: number;
  beforeRunMs?: number;
}

export function startup(runs: number): StartupRow[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-startup-'));
  const reportFile = path.join(dir, 'report.json');
  const job = ['run', 'pipeline.config.ts', '--quiet', '--log-level', 'warn', '--sink-path', path.join(dir, 'out.parquet'), '--report', reportFile];
  const fromSource = { SLUICE_FROM_SOURCE: '1' };
  const cases: Case[] = [
    { name: 'sluice --help', args: ['--help'] },
    { name: 'sluice --help (from source)', args: ['--help'], env: fromSource },
    { name: 'sluice validate (example)', args: ['validate', 'pipeline.config.ts'] },
    { name: 'example job', args: job, report: true },
    { name: 'example job (from source)', args: job, env: fromSource, report: true },
  ];
  const samples = cases.map(() => ({ wall: [] as number[], cpu: [] as number[], startup: [] as number[], before: [] as number[] }));
  try {
    for (let round = -1; round < runs; round++) {
      cases.forEach((c, i) => {
        const m = measure([path.join(ROOT, 'bin/sluice'), ...c.args], { ...c.env, NODE_OPTIONS: '' });
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
  const rows = cases.map((c, i): StartupRow => {
    const s = samples[i];
    const row: StartupRow = { name: c.name, wallMs: median(s.wall), cpuMs: median(s.cpu) };
    if (c.report) Object.assign(row, { startupMs: median(s.startup), beforeRunMs: median(s.before) });
    console.log(`  ${c.name.padEnd(30)} wall ${fmt(row.wallMs, 0).padStart(6)} ms  CPU ${fmt(row.cpuMs, 0).padStart(6)} ms${row.startupMs === undefined ? '' : `  before the run ${fmt(row.beforeRunMs!, 0)} ms, start-up ${fmt(row.startupMs, 0)} ms`}`);
    return row;
  });
  const help = rows[0];
  const example = rows[3];
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
