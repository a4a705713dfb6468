/** CPU-bound stage scaling, scheduler overhead and the strings fast path, run in-process. */
import { OwnedBatch } from '../src/batch/owned';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordBatch, RecordBatchFileWriter, Table, tableFromArrays, tableFromIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { arrowToArray } from '../src/batch/fast-to-array';
import { readStrings } from '../src/batch/strings';
import { InlineExecutor } from '../src/executors/inline';
import { Channel } from '../src/runtime/channel';
import { Scheduler, type SchedulerSource } from '../src/runtime/scheduler';
import type { StageMode } from '../src/config/types';
import { fmt, median, silent, target, timeIt } from './lib';

const tmp = path.join(os.tmpdir(), 'sluice-bench');
mkdirSync(tmp, { recursive: true });

function writeArrow(file: string, batches: RecordBatch[]): void {
  writeFileSync(file, RecordBatchFileWriter.writeAll(batches).toUint8Array(true));
}

/** The two CPU-bound stages: one on node:crypto, one in plain JavaScript (about as costly a row). */
const CPU_STAGES = [
  { key: 'sha256', label: '8 rounds of sha256 (node:crypto)', module: './stages/sha.ts', rounds: 8 },
  { key: 'js', label: '3 rounds of a JavaScript FNV hash', module: './stages/js-hash.ts', rounds: 3 },
] as const;

export async function cpuBound(quick: boolean, runs: number) {
  const rows = quick ? 100_000 : 1_000_000;
  const input = path.join(tmp, `strings-${rows}.arrow`);
  const perBatch = 25_000;
  const batches = Array.from({ length: rows / perBatch }, (_, b) =>
    tableFromIPC(pl.DataFrame({ s: Array.from({ length: perBatch }, (_, i) => `customer-${b * perBatch + i}@example.com`) }).writeIPC()).batches[0],
  );
  writeArrow(input, batches);
  // CPU-bound enough that the stage, not the source or sink, is what runs (≈3 µs a row).
  // Each run is a fresh `sluice run`, as a nightly job is: no mode inherits code the JIT
  // already optimised or a heap grown by an earlier run. Timed from the end of start-up
  // (threads/processes started, stage loaded), as the run report says.
  const once = (stage: (typeof CPU_STAGES)[number], mode: StageMode, copies: number): number => {
    const report = path.join(tmp, 'cpu-report.json');
    const env = {
      ...process.env,
      NODE_OPTIONS: '',
      SLUICE_BENCH_INPUT: input,
      SLUICE_BENCH_BATCH_ROWS: String(perBatch),
      SLUICE_BENCH_STAGE: path.join(__dirname, stage.module),
      SLUICE_BENCH_MODE: mode,
      SLUICE_BENCH_COPIES: String(copies),
      SLUICE_BENCH_ROUNDS: String(stage.rounds),
      SLUICE_BENCH_OUTPUT: path.join(tmp, 'cpu-out.arrow'),
    };
    const r = spawnSync(path.join(__dirname, '../bin/sluice'), ['run', path.join(__dirname, 'cpu.config.ts'), '--quiet', '--log-level', 'warn', '--report', report], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cpu bench run (${stage.key} ${mode}×${copies}) failed:\n${r.stderr}`);
    const { durationMs, startupMs } = JSON.parse(readFileSync(report, 'utf8')) as { durationMs: number; startupMs: number };
    return durationMs - startupMs;
  };
  const layouts = [['inline', 1], ['thread', 1], ['thread', 2], ['process', 1], ['process', 2]] as const;
  const results: Record<string, Record<string, number>> = {};
  for (const stage of CPU_STAGES) {
    console.log(`  ${stage.label}:`);
    // Modes interleaved, run after run (after one warm-up of each): a machine that slows down
    // meanwhile slows every mode alike, so the speedups compare like with like.
    const times: number[][] = layouts.map(() => []);
    for (let r = 0; r < runs + 1; r++) {
      for (const [i, [mode, k]] of layouts.entries()) {
        const ms = once(stage, mode, k);
        if (r > 0) times[i].push(ms);
      }
    }
    const out: Record<string, number> = Object.fromEntries(layouts.map(([mode, k], i) => [`${mode}×${k}`, median(times[i])]));
    const inline = out['inline×1'];
    for (const [k, ms] of Object.entries(out)) {
      const copies = Number(k.split('×')[1]);
      console.log(`    ${k.padEnd(10)} ${fmt(ms).padStart(8)} ms  speedup ${fmt(inline / ms)}×  efficiency ${fmt((100 * inline) / ms / copies, 0)}%`);
    }
    results[stage.key] = out;
  }
  const bareRuns = Math.max(3, runs);
  const bare = { sha256: bareHash('sha256', rows, bareRuns), js: bareHash('js', rows, bareRuns) };
  for (const stage of CPU_STAGES) {
    const b = bare[stage.key];
    console.log(`  ${stage.label} without sluice (median of ${bareRuns}): 1 thread ${fmt(b.one)} ms, 2 worker threads ${fmt(b.threads)} ms (${fmt(b.one / b.threads)}×), 2 processes ${fmt(b.processes)} ms (${fmt(b.one / b.processes)}×)`);
  }
  const speedup = (key: string, k: string) => results[key]['inline×1'] / results[key][k];
  const without = (key: 'sha256' | 'js') => `; the same work in 2 bare threads without sluice: ${fmt(bare[key].one / bare[key].threads)}×, 2 processes ${fmt(bare[key].one / bare[key].processes)}×`;
  const what = `${rows.toLocaleString('en-US')} rows, after start-up`;
  target('CPU-bound (JavaScript stage): thread×2 ≥ 1.8× inline', speedup('js', 'thread×2') >= 1.8, `${fmt(speedup('js', 'thread×2'))}× (${what})${without('js')}`);
  target('CPU-bound (sha256 stage): thread×2 ≥ 1.8× inline', speedup('sha256', 'thread×2') >= 1.8, `${fmt(speedup('sha256', 'thread×2'))}×${without('sha256')}`);
  target('CPU-bound (sha256 stage): process×2 ≥ 1.6× inline', speedup('sha256', 'process×2') >= 1.6, `${fmt(speedup('sha256', 'process×2'))}×`);
  return { rows, ms: results, bare };
}

/** bench/bare-hash.js in each layout, interleaved, median of `runs` (timed from all parts ready). */
export function bareHash(work: 'sha256' | 'js' | 'alu' | 'map', rows: number, runs: number): { one: number; threads: number; processes: number } {
  const times: Record<'one' | 'threads' | 'processes', number[]> = { one: [], threads: [], processes: [] };
  for (let r = 0; r < runs; r++) {
    for (const mode of ['one', 'threads', 'processes'] as const) {
      const out = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'bare-hash.js'), work, mode, String(rows)], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
      if (out.status !== 0) throw new Error(`bare-hash ${work} ${mode} failed:\n${out.stderr}`);
      times[mode].push((JSON.parse(out.stdout) as { ms: number }).ms);
    }
  }
  return { one: median(times.one), threads: median(times.threads), processes: median(times.processes) };
}

export async function schedulerOverhead(quick: boolean, runs: number) {
  // In-memory source and sink, so only the scheduler and the inline executors are timed.
  const count = quick ? 5_000 : 50_000;
  const batches = Array.from({ length: count }, (_, i) => tableFromArrays({ x: Int32Array.of(i) }).batches[0]);
  const time = async (stages: number) => {
    const executors = Array.from({ length: stages }, (_, i) => new InlineExecutor({ name: `noop${i}`, modulePath: path.join(__dirname, 'stages/pass.ts'), mode: 'inline', copies: 1, slotsPerCopy: 1, options: {}, output: { capacity: 4, capacityBytes: 1 << 30 } }, { log: silent }));
    await Promise.all(executors.map((e) => e.start()));
    return timeIt(
      async () => {
        let next = 0;
        const source: SchedulerSource = {
          next: async () => (next < count ? { done: false, value: OwnedBatch.plain(-1, [batches[next++]]) } : { done: true, value: undefined }),
          close: async () => undefined,
        };
        const channels = Array.from({ length: stages + 1 }, (_, i) => new Channel(`c${i}`, { capacity: 4, capacityBytes: 1 << 30 }, true));
        await new Scheduler(source, executors, { write: async (item) => item.release() }, channels).run();
      },
      runs,
      1,
    );
  };
  const base = await time(0);
  const five = await time(5);
  const perStage = ((five - base) * 1000) / (count * 5);
  console.log(`  ${count} one-row batches through the scheduler: 0 stages ${fmt(base)} ms, 5 no-op inline stages ${fmt(five)} ms`);
  target('scheduler overhead ≤ 50 µs per batch per stage', perStage <= 50, `${fmt(perStage)} µs`);
  return { batches: count, baseMs: base, fiveStagesMs: five, usPerBatchPerStage: perStage };
}

export async function strings(runs: number) {
  const n = 200_000;
  const values = Array.from({ length: n }, (_, i) => `user.${i}@example.com`);
  const out: Record<string, { toArrayNs: number; readStringsNs: number; speedup: number }> = {};
  for (const [label, bytes] of [
    ['utf8view (df.writeIPC)', pl.DataFrame({ s: values }).writeIPC()],
    ['largeutf8 (df.writeIPCStream)', pl.DataFrame({ s: values }).writeIPCStream()],
  ] as const) {
    const batch = tableFromIPC(bytes).batches[0];
    // apache-arrow's own toArray: once a stage host ran in this process (the sections before),
    // `toArray()` on strings is sluice's fast path, the very thing compared against.
    const slow = await timeIt(() => arrowToArray.call(new Table(batch).getChild('s')!), runs, 1);
    const fast = await timeIt(() => readStrings(batch, 's'), runs, 1);
    out[label] = { toArrayNs: (slow * 1e6) / n, readStringsNs: (fast * 1e6) / n, speedup: slow / fast };
    console.log(`  ${label.padEnd(30)} toArray ${fmt(out[label].toArrayNs)} ns/value, ctx.strings ${fmt(out[label].readStringsNs)} ns/value: ${fmt(out[label].speedup)}×`);
  }
  const worst = Math.min(...Object.values(out).map((o) => o.speedup));
  target('ctx.strings reads polars strings ≥ 2× faster than toArray()', worst >= 2, `${fmt(worst)}× at worst`);
  return out;
}
