/**
 * The newcomer's polars-shaped job (issue 28) on the vega-datasets flights (3 M rows of US
 * flights, 2001, `flights-3m.parquet`, and `airports.csv`): clean, a left join to the airports,
 * a per-month / per-state aggregate with flush, partitioned Parquet out; every stage inline in
 * polars (bench/polars/). Beside it the same job as one lazy nodejs-polars script and as DuckDB
 * SQL, interleaved; every answer read back by DuckDB and checked against the script's. The
 * machine is shared: CPU seconds are the steadier figure, so the target is on them (wall beside).
 */
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import pl from 'nodejs-polars';
import { DuckDBInstance } from '@duckdb/node-api';
import { fmt, interleaved, node, ROOT, target, type Contender } from './lib';

/** vega-datasets' flights, the first `rows` of them (all 3 M: the file itself), and its airports. */
export function vegaFlights(rows: number): { flights: string; airports: string } {
  // The package exports only its JS entry (build/index.js); its data/ folder sits beside build/.
  const data = path.join(path.dirname(require.resolve('vega-datasets')), '..', 'data');
  const full = path.join(data, 'flights-3m.parquet');
  const dir = path.join(ROOT, 'data/big');
  mkdirSync(dir, { recursive: true });
  const airports = path.join(dir, 'vega-airports.csv');
  if (!existsSync(airports)) copyFileSync(path.join(data, 'airports.csv'), airports);
  if (rows >= 3_000_000) return { flights: full, airports };
  const flights = path.join(dir, `vega-flights-${rows}.parquet`);
  if (!existsSync(flights)) {
    pl.readParquet(full).head(rows).writeParquet(`${flights}.tmp`);
    renameSync(`${flights}.tmp`, flights);
  }
  return { flights, airports };
}

type Row = { month: number; state: string | null; flights: number; delay: number };

async function readAnswer(dir: string): Promise<Row[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const reader = await c.runAndReadAll(`SELECT month::INTEGER AS month, state, flights::BIGINT AS flights, delay::DOUBLE AS delay FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true) ORDER BY month, state NULLS FIRST`);
  return (reader.getRowObjectsJson() as Record<string, unknown>[]).map((r) => ({ month: Number(r.month), state: (r.state as string | null) ?? null, flights: Number(r.flights), delay: Number(r.delay) }));
}

function sameAnswer(a: Row[], b: Row[]): string | undefined {
  if (a.length !== b.length) return `${a.length} vs ${b.length} groups`;
  for (let i = 0; i < a.length; i++) {
    if (a[i].month !== b[i].month || a[i].state !== b[i].state) return `group ${i}: ${a[i].month}/${a[i].state} vs ${b[i].month}/${b[i].state}`;
    if (a[i].flights !== b[i].flights || a[i].delay !== b[i].delay) return `${a[i].month}/${a[i].state}: ${a[i].flights} flights, delay ${a[i].delay} vs ${b[i].flights}, ${b[i].delay}`;
  }
  return undefined;
}

export async function polarsJob(rows: number, rounds: number) {
  const { flights, airports } = vegaFlights(rows);
  const out = (name: string) => `/tmp/sluice-bench-polars-${name}`;
  const env = (name: string, extra: NodeJS.ProcessEnv = {}) => ({ SLUICE_BENCH_INPUT: flights, SLUICE_BENCH_AIRPORTS: airports, SLUICE_BENCH_OUTPUT: out(name), ...extra });
  const sluiceCmd = [path.join(ROOT, 'bin/sluice'), 'run', path.join(__dirname, 'polars/flights.config.ts'), '--quiet', '--log-level', 'warn'];
  const contenders: (Contender & { output: string })[] = [
    { name: 'nodejs-polars lazy script', cmd: node(path.join(__dirname, 'polars/lazy.ts'), flights, airports, out('lazy')), output: out('lazy') },
    { name: 'sluice, 3 inline polars stages', cmd: sluiceCmd, env: env('sluice'), output: out('sluice') },
    { name: 'sluice, aggregate keeps frames', cmd: sluiceCmd, env: env('sluice-frames', { SLUICE_BENCH_AGG: 'frames' }), output: out('sluice-frames') },
    { name: 'DuckDB SQL', cmd: node(path.join(__dirname, 'polars/duckdb.ts'), flights, airports, out('duckdb')), output: out('duckdb') },
    // batchRows set: the chain rule (plan/chain-batch.ts) and the source's frame hand-off do not apply, as before them.
    { name: 'sluice, batchRows 65 536 set', cmd: sluiceCmd, env: env('sluice-65536', { SLUICE_BENCH_BATCH_ROWS: '65536' }), output: out('sluice-65536') },
  ];
  const answers: (Row[] | undefined)[] = contenders.map(() => undefined);
  const { medians, all } = interleaved(contenders, rounds, (i, m) => {
    console.log(`    ${contenders[i].name.padEnd(34)} ${fmt(m.wall_s).padStart(7)} s wall  ${fmt(m.cpu_s).padStart(7)} s CPU  ${fmt(m.max_rss_mb, 0).padStart(6)} MB peak`);
  });
  for (const [i, c] of contenders.entries()) answers[i] = await readAnswer(c.output);
  const results = contenders.map((c, i) => {
    const differs = sameAnswer(answers[0]!, answers[i]!);
    return { ...medians[i], name: c.name, answer: differs ? `DIFFERS: ${differs}` : 'same', runs: all[i] };
  });
  console.log(`  medians of ${rounds} interleaved rounds (${rows.toLocaleString('en-US')} flights):`);
  for (const r of results) console.log(`  ${r.name.padEnd(34)} ${fmt(r.wall_s).padStart(7)} s wall  ${fmt(r.cpu_s).padStart(7)} s CPU  ${fmt(r.max_rss_mb, 0).padStart(6)} MB peak  answer: ${r.answer}`);
  const [lazy, sluice, frames, duck] = results;
  target('polars job: every contender gives the same answer', results.every((r) => r.answer === 'same'), results.map((r) => `${r.name} ${r.answer}`).join('; '));
  target(
    'polars job: sluice ≤ 1.25× the lazy nodejs-polars script (CPU s)',
    sluice.cpu_s <= 1.25 * lazy.cpu_s,
    `${fmt(sluice.cpu_s / lazy.cpu_s)}× CPU (${fmt(sluice.cpu_s)} s vs ${fmt(lazy.cpu_s)} s); wall ${fmt(sluice.wall_s / lazy.wall_s)}× (${fmt(sluice.wall_s)} s vs ${fmt(lazy.wall_s)} s)`,
  );
  target('polars job: sluice peak memory ≤ the script\'s', sluice.max_rss_mb <= lazy.max_rss_mb, `${fmt(sluice.max_rss_mb, 0)} MB vs ${fmt(lazy.max_rss_mb, 0)} MB`);
  console.log(`  aggregate keeping every batch's frames: ${fmt(frames.cpu_s)} s CPU, ${fmt(frames.max_rss_mb, 0)} MB peak; DuckDB ${fmt(duck.cpu_s)} s CPU (${fmt(sluice.cpu_s / duck.cpu_s)}× sluice's CPU)`);
  console.log(`  batchRows 65 536 set (no chain rule, no frame hand-off from the source): ${fmt(results[4].cpu_s)} s CPU, ${fmt(results[4].max_rss_mb, 0)} MB peak`);
  return { rows, results };
}
