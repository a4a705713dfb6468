/** CPU-bound stage scaling, scheduler overhead and the strings fast path, run in-process. */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordBatch, RecordBatchFileWriter, Table, tableFromArrays, tableFromIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { readStrings } from '../src/batch/strings';
import { buildPlan } from '../src/plan/build';
import { runPlan } from '../src/runtime/run';
import type { PipelineConfig, StageMode } from '../src/config/types';
import { fmt, median, silent, target, timeIt } from './lib';

const tmp = path.join(os.tmpdir(), 'sluice-bench');
mkdirSync(tmp, { recursive: true });

function plan(config: PipelineConfig) {
  return buildPlan(config, { file: path.join(__dirname, 'inline.config.ts'), baseDir: __dirname });
}

function writeArrow(file: string, batches: RecordBatch[]): void {
  writeFileSync(file, RecordBatchFileWriter.writeAll(batches).toUint8Array(true));
}

export async function cpuBound(quick: boolean, runs: number) {
  const rows = quick ? 100_000 : 1_000_000;
  const input = path.join(tmp, `strings-${rows}.arrow`);
  const perBatch = 25_000;
  const batches = Array.from({ length: rows / perBatch }, (_, b) =>
    tableFromIPC(pl.DataFrame({ s: Array.from({ length: perBatch }, (_, i) => `customer-${b * perBatch + i}@example.com`) }).writeIPC()).batches[0],
  );
  writeArrow(input, batches);
  const run = async (mode: StageMode, copies: number) => {
    const times: number[] = [];
    for (let r = 0; r < runs + 1; r++) {
      const t = performance.now();
      await runPlan(
        plan({
          name: 'cpu',
          source: { format: 'arrow', path: input, batchRows: perBatch },
          stages: [{ name: 'sha', module: './stages/sha.ts', mode, concurrency: copies, options: { column: 's' } }],
          sink: { format: 'arrow', path: path.join(tmp, 'cpu-out.arrow') },
        }),
        { log: silent },
      );
      if (r > 0) times.push(performance.now() - t); // the first run warms up
    }
    return median(times);
  };
  const inline = await run('inline', 1);
  const out: Record<string, number> = { 'inline×1': inline };
  for (const mode of ['thread', 'process'] as const) for (const k of [1, 2]) out[`${mode}×${k}`] = await run(mode, k);
  for (const [k, ms] of Object.entries(out)) {
    const copies = Number(k.split('×')[1]);
    console.log(`  ${k.padEnd(10)} ${fmt(ms).padStart(8)} ms  speedup ${fmt(inline / ms)}×  efficiency ${fmt((100 * inline) / ms / copies, 0)}%`);
  }
  target('CPU-bound: thread×2 ≥ 1.8× inline', inline / out['thread×2'] >= 1.8, `${fmt(inline / out['thread×2'])}× (${rows.toLocaleString('en-US')} rows of sha256)`);
  target('CPU-bound: process×2 ≥ 1.6× inline', inline / out['process×2'] >= 1.6, `${fmt(inline / out['process×2'])}×`);
  return { rows, ms: out };
}

export async function schedulerOverhead(quick: boolean, runs: number) {
  const count = quick ? 2_000 : 20_000;
  const input = path.join(tmp, `tiny-${count}.arrow`);
  writeArrow(input, Array.from({ length: count }, (_, i) => tableFromArrays({ x: Int32Array.of(i) }).batches[0]));
  const time = (stages: number) =>
    timeIt(
      () =>
        runPlan(
          plan({
            name: 'overhead',
            source: { format: 'arrow', path: input, batchRows: 1 },
            stages: Array.from({ length: stages }, (_, i) => ({ name: `noop${i}`, module: './stages/pass.ts', mode: 'inline' as const })),
            sink: { format: 'arrow', path: path.join(tmp, 'overhead-out.arrow') },
          }),
          { log: silent },
        ),
      runs,
      1,
    );
  const base = await time(0);
  const five = await time(5);
  const perStage = ((five - base) * 1000) / (count * 5);
  console.log(`  ${count} one-row batches: 0 stages ${fmt(base)} ms, 5 no-op inline stages ${fmt(five)} ms`);
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
    const slow = await timeIt(() => new Table(batch).getChild('s')!.toArray(), runs, 1);
    const fast = await timeIt(() => readStrings(batch, 's'), runs, 1);
    out[label] = { toArrayNs: (slow * 1e6) / n, readStringsNs: (fast * 1e6) / n, speedup: slow / fast };
    console.log(`  ${label.padEnd(30)} toArray ${fmt(out[label].toArrayNs)} ns/value, ctx.strings ${fmt(out[label].readStringsNs)} ns/value: ${fmt(out[label].speedup)}×`);
  }
  const worst = Math.min(...Object.values(out).map((o) => o.speedup));
  target('ctx.strings reads polars strings ≥ 2× faster than toArray()', worst >= 2, `${fmt(worst)}× at worst`);
  return out;
}
