/**
 * Keyed routing (`key` on a stage): the obvious per-(day, origin) aggregate with flush
 * (bench/obvious/daily-stage*.ts) as one copy, keyed at 2 copies, and with a combiner at 2
 * copies, whole runs interleaved, their answers checked against one another; and, in this
 * process, what the cut costs (batch/key-split.ts: hash, placement, each batch cut into one
 * part per copy, at 2 and, simulated, 4 copies; the function a producer's worker runs) against
 * the aggregate's own work on the same batches, in CPU time beside wall (the machine may be
 * shared: CPU ratios are the figure to trust). Default size keeps the section near a minute.
 */
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { tableFromIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { splitByKey } from '../src/batch/key-split';
import { byteSizeOf } from '../src/batch/owned';
import { loadStageDefinition } from '../src/worker/load';
import { ensureFlights } from './obvious';
import { fmt, interleaved, median, ROOT, silent, target, type Contender } from './lib';

/** Rows of (day, origin, delay, route) from the flights file, as the aggregate reads them. */
async function ensureDaily(rows: number): Promise<string> {
  const file = path.join(ROOT, 'data/big', `daily-${rows}.csv`);
  if (existsSync(file)) return file;
  const flights = await ensureFlights(rows);
  const df = pl
    .readCSV(flights, { ignoreErrors: false })
    .select(pl.col('dep_time').str.slice(0, 10).alias('day'), pl.col('origin'), pl.col('dep_delay').cast(pl.Float64).alias('delay'), pl.concatString([pl.col('origin'), pl.col('dest')], '-').alias('route'));
  df.writeCSV(`${file}.tmp`);
  renameSync(`${file}.tmp`, file);
  return file;
}

/**
 * Per batch, the cut at `copies` (batch/key-split.ts splitByKey: what a producer's worker runs
 * on its output, or main for an inline producer) and the aggregate's process() on the same
 * batches: wall and CPU time (process.cpuUsage: this thread only; nothing else runs here), and
 * the bytes the cut copied. Medians of `runs` runs, the two interleaved, after a warm-up of each.
 */
async function splitVsWork(batches: RecordBatch[], copies: number, runs: number) {
  let copied = 0;
  const split = () => {
    copied = 0;
    for (const b of batches) copied += splitByKey([b], ['day', 'origin'], copies).copiedBytes;
  };
  const stage = await loadStageDefinition(path.join(__dirname, 'obvious/daily-stage.ts'));
  const ctx = { copy: 0, copies: 1, options: {}, params: {}, stage: 'daily', mode: 'inline', log: silent } as never;
  const work = async () => {
    for (const b of batches) await stage.process(b, ctx);
  };
  const once = async (fn: () => unknown) => {
    const cpu = process.cpuUsage();
    const t = performance.now();
    await fn();
    const used = process.cpuUsage(cpu);
    return { wallMs: (performance.now() - t) / batches.length, cpuMs: (used.user + used.system) / 1000 / batches.length };
  };
  await once(split); // warm-up
  await once(work);
  const s: { wallMs: number; cpuMs: number }[] = [];
  const w: typeof s = [];
  for (let r = 0; r < runs; r++) {
    s.push(await once(split));
    w.push(await once(work));
  }
  const med = (xs: typeof s) => ({ wallMs: median(xs.map((x) => x.wallMs)), cpuMs: median(xs.map((x) => x.cpuMs)) });
  const sm = med(s);
  const wm = med(w);
  return { splitMs: sm.wallMs, splitCpuMs: sm.cpuMs, stageMs: wm.wallMs, stageCpuMs: wm.cpuMs, splitBytesPerBatch: copied / batches.length, batchBytes: byteSizeOf(batches) / batches.length };
}

export async function keyed(rows: number, rounds: number, runs: number) {
  const input = await ensureDaily(rows);
  // The batches as the source gives them to a thread stage (strings as Utf8View from polars' reader, 65 536 rows).
  const table = tableFromIPC(pl.readCSV(input, { dtypes: { day: pl.String }, ignoreErrors: false }).writeIPC());
  const batches = table.batches.flatMap((b) => Array.from({ length: Math.ceil(b.numRows / 65_536) }, (_, i) => b.slice(i * 65_536, (i + 1) * 65_536)));
  const micro = [];
  for (const copies of [2, 4]) {
    const m = await splitVsWork(batches, copies, runs);
    micro.push({ copies, ...m, ratio: m.splitMs / m.stageMs, cpuRatio: m.splitCpuMs / m.stageCpuMs });
    console.log(
      `  cut at ${copies} copies${copies > 2 ? ' (simulated: the cut alone)' : ''}: ${fmt(m.splitMs)} ms wall, ${fmt(m.splitCpuMs)} ms CPU per 65 536-row batch, ${fmt(m.splitBytesPerBatch / 2 ** 20)} MiB copied of ${fmt(m.batchBytes / 2 ** 20)} MiB; ` +
        `the aggregate's process(): ${fmt(m.stageMs)} ms wall, ${fmt(m.stageCpuMs)} ms CPU (cut = ${fmt((100 * m.splitCpuMs) / m.stageCpuMs, 0)} % of the stage's CPU)`,
    );
  }
  const out = (name: string) => `/tmp/sluice-bench-keyed-${name}.parquet`;
  const contender = (how: 'one' | 'keyed' | 'combine', label: string): Contender & { output: string } => ({
    name: label,
    cmd: [path.join(ROOT, 'bin/sluice'), 'run', path.join(__dirname, 'keyed.config.ts'), '--quiet', '--log-level', 'warn'],
    env: { SLUICE_BENCH_INPUT: input, SLUICE_BENCH_OUTPUT: out(how), SLUICE_BENCH_DAILY: how, SLUICE_BENCH_COPIES: '2' },
    output: out(how),
  });
  const contenders = [contender('one', 'aggregate, thread × 1'), contender('keyed', 'aggregate keyed, thread × 2'), contender('combine', 'aggregate + combine, thread × 2')];
  const answers = contenders.map(() => '');
  const read = (f: string) => JSON.stringify(pl.readParquet(f).sort(['day', 'origin']).select('day', 'origin', 'flights', 'routes').toRecords());
  const { medians, all } = interleaved(contenders, rounds, (i, m) => {
    answers[i] ||= read(contenders[i].output);
    console.log(`    ${contenders[i].name.padEnd(34)} ${fmt(m.wall_s).padStart(7)} s wall  ${fmt(m.cpu_s).padStart(7)} s CPU`);
  });
  const results = contenders.map((c, i) => ({ ...medians[i], name: c.name, answer: answers[i] === answers[0] ? 'same' : 'DIFFERS', runs: all[i] }));
  console.log(`  medians of ${rounds} interleaved rounds (${rows.toLocaleString('en-US')} rows):`);
  for (const r of results) console.log(`  ${r.name.padEnd(34)} ${fmt(r.wall_s).padStart(7)} s wall  ${fmt(r.cpu_s).padStart(7)} s CPU  ${fmt(r.max_rss_mb, 0).padStart(6)} MB peak  answer: ${r.answer}`);
  const [one, byKey, combine] = results;
  target('keyed: every contender gives the one-copy answer', results.every((r) => r.answer === 'same'), results.map((r) => `${r.name} ${r.answer}`).join('; '));
  target('keyed: the cut costs less than the stage’s work (CPU; 2 and, simulated, 4 copies)', micro.every((m) => m.cpuRatio < 1), micro.map((m) => `${m.copies} copies: ${fmt(100 * m.cpuRatio, 0)} % (wall ${fmt(100 * m.ratio, 0)} %)`).join(', '));
  target(
    'keyed × 2 faster than one copy',
    byKey.wall_s < one.wall_s,
    `${fmt(one.wall_s / byKey.wall_s)}× wall (${fmt(byKey.wall_s)} s vs ${fmt(one.wall_s)} s), CPU ${fmt(byKey.cpu_s)} s vs ${fmt(one.cpu_s)} s; combine × 2: ${fmt(combine.wall_s)} s wall, ${fmt(combine.cpu_s)} s CPU`,
  );
  target('keyed × 2 no more CPU than combine × 2', byKey.cpu_s <= combine.cpu_s, `CPU ${fmt(byKey.cpu_s)} s vs ${fmt(combine.cpu_s)} s (${fmt(byKey.cpu_s / combine.cpu_s)}×); wall ${fmt(byKey.wall_s)} s vs ${fmt(combine.wall_s)} s`);
  return { rows, micro, results };
}
