/**
 * Keyed routing (`key` on a stage): the obvious per-(day, origin) aggregate with flush
 * (bench/obvious/daily-stage*.ts) as one copy, keyed at 2 copies, and with a combiner at 2
 * copies, whole runs interleaved, their answers checked against one another; and, in this
 * process, what the split costs (hash, placement, cutting each batch into one part per copy,
 * at 2 and, simulated, 4 copies) against the aggregate's own work on the same batches.
 */
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { tableFromIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { hashKeyRows } from '../src/batch/key-hash';
import { takeRows } from '../src/batch/take';
import { rowsByCopy } from '../src/executors/keyed-place';
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

/** ms per batch of the split at `copies`, and of the aggregate's process(), on the same batches. */
async function splitVsWork(batches: RecordBatch[], copies: number, runs: number) {
  const split = () => {
    for (const b of batches) {
      const parts = rowsByCopy(hashKeyRows(b, ['day', 'origin']), copies);
      for (const rows of parts) if (rows.length) takeRows(b, rows);
    }
  };
  const stage = await loadStageDefinition(path.join(__dirname, 'obvious/daily-stage.ts'));
  const ctx = { copy: 0, copies: 1, options: {}, params: {}, stage: 'daily', mode: 'inline', log: silent } as never;
  const work = async () => {
    for (const b of batches) await stage.process(b, ctx);
  };
  const time = async (fn: () => unknown) => {
    const ms: number[] = [];
    for (let r = 0; r < runs + 1; r++) {
      const t = performance.now();
      await fn();
      if (r > 0) ms.push((performance.now() - t) / batches.length); // the first run warms up
    }
    return median(ms);
  };
  return { splitMs: await time(split), stageMs: await time(work) };
}

export async function keyed(rows: number, rounds: number, runs: number) {
  const input = await ensureDaily(rows);
  // The batches as the source gives them to a thread stage (strings as Utf8View from polars' reader, 65 536 rows).
  const table = tableFromIPC(pl.readCSV(input, { dtypes: { day: pl.String }, ignoreErrors: false }).writeIPC());
  const batches = table.batches.flatMap((b) => Array.from({ length: Math.ceil(b.numRows / 65_536) }, (_, i) => b.slice(i * 65_536, (i + 1) * 65_536)));
  const micro = [];
  for (const copies of [2, 4]) {
    const m = await splitVsWork(batches, copies, runs);
    micro.push({ copies, ...m, ratio: m.splitMs / m.stageMs });
    console.log(`  split at ${copies} copies: ${fmt(m.splitMs)} ms per 65 536-row batch; the aggregate's process(): ${fmt(m.stageMs)} ms (split = ${fmt((100 * m.splitMs) / m.stageMs, 0)} % of the stage's work)`);
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
  target('keyed: the split costs less than the stage’s work (2 and 4 copies)', micro.every((m) => m.ratio < 1), micro.map((m) => `${m.copies} copies: ${fmt(100 * m.ratio, 0)} %`).join(', '));
  target('keyed × 2 faster than one copy', byKey.wall_s < one.wall_s, `${fmt(one.wall_s / byKey.wall_s)}× (${fmt(byKey.wall_s)} s vs ${fmt(one.wall_s)} s); combine × 2: ${fmt(combine.wall_s)} s`);
  return { rows, micro, results };
}
