/** Shared bench helpers: timing, medians, child-process measurement, targets. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';

export const ROOT = path.resolve(__dirname, '..');
export const silent = pino({ level: 'silent' });

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median of `runs` timings (ms) after `warmup` untimed calls. */
/**
 * A contender against a reference run pair by pair: the median of its per-round ratios. The
 * machine's speed drifts between rounds (other work, the page cache) by as much as a small
 * effect; both runs of a round share the drift, so their ratio cancels it where a ratio of two
 * medians (taken from different rounds) does not.
 */
export function pairedRatio(xs: readonly number[], reference: readonly number[]): number {
  if (xs.length !== reference.length || xs.length === 0) throw new Error(`pairedRatio: ${xs.length} runs against ${reference.length} (one pair per round)`);
  return median(xs.map((x, r) => x / reference[r]));
}

export async function timeIt(fn: () => Promise<unknown> | unknown, runs: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

export interface Measured {
  wall_s: number;
  cpu_s: number;
  max_rss_mb: number;
  code: number;
}

/** Run a command under bench/measure.py (wall, CPU of the whole tree, peak RSS of its largest process). */
export function measure(cmd: string[], env: NodeJS.ProcessEnv = {}): Measured {
  const r = spawnSync('python3', [path.join(__dirname, 'measure.py'), ...cmd], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = r.stderr.trim().split('\n').pop() ?? '{}';
  const m = JSON.parse(last) as Measured;
  if (m.code !== 0) throw new Error(`${cmd.join(' ')} failed (${m.code}):\n${r.stderr.slice(-2000)}`);
  return m;
}

export interface Contender {
  name: string;
  cmd: string[];
  env?: NodeJS.ProcessEnv;
}

export interface Rounds {
  /** Per contender: the median of each measure over the timed rounds. */
  medians: Measured[];
  /** Per contender: every timed round. */
  all: Measured[][];
}

/**
 * Every contender once per round, interleaved (a machine that slows down mid-run slows all
 * of them alike), after an untimed warm-up run of the first one (it fills the page cache with
 * the shared input); each measure is the median over `rounds` rounds. `after` sees each run.
 */
export function interleaved(contenders: Contender[], rounds: number, after?: (i: number, m: Measured) => void): Rounds {
  const run = (c: Contender) => measure(c.cmd, { ...c.env, NODE_OPTIONS: '' });
  run(contenders[0]);
  const all: Measured[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    contenders.forEach((c, i) => {
      const m = run(c);
      all[i].push(m);
      after?.(i, m);
    });
  }
  const medians = all.map((ms) => ({ wall_s: median(ms.map((m) => m.wall_s)), cpu_s: median(ms.map((m) => m.cpu_s)), max_rss_mb: median(ms.map((m) => m.max_rss_mb)), code: 0 }));
  return { medians, all };
}

export function node(...args: string[]): string[] {
  return [process.execPath, '--import', 'tsx', ...args];
}

export interface Target {
  name: string;
  figure: string;
  met: boolean;
}

export const targets: Target[] = [];

export function target(name: string, met: boolean, figure: string): void {
  targets.push({ name, figure, met });
  console.log(`  ${met ? '✔ met    ' : '✖ not met'}  ${name}: ${figure}`);
}

export const fmt = (n: number, d = 2) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(d));
