/**
 * Stages written the obvious way (bench/obvious/: `toArray()`, `createHash` per row,
 * `tableFromArrays`, a JS Map aggregate) on flight records shaped like the public US data
 * (departure time, delay, distance, origin, destination): the obvious stage inline, on
 * thread × 2 and on process × 2, beside Python's multiprocessing.Pool(2) (stdlib) and DuckDB
 * doing the same work. Every contender's answer is checked against the first one's.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import pl from 'nodejs-polars';
import { fmt, interleaved, node, ROOT, target, type Contender } from './lib';
import { bareHash } from './pipelines';

const AIRPORTS = Array.from({ length: 300 }, (_, i) => String.fromCharCode(65 + (i % 26), 65 + (Math.floor(i / 26) % 26), 65 + ((i * 7) % 26)));

/** Deterministic flights (a 32-bit LCG): the same file for every run and every machine. */
export async function ensureFlights(rows: number): Promise<string> {
  const file = path.join(ROOT, 'data/big', `flights-${rows}.csv`);
  if (existsSync(file)) return file;
  console.log(`  generating ${rows.toLocaleString('en-US')} flights → ${file}`);
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const out = createWriteStream(tmp);
  let seed = 42;
  const next = (n: number) => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % n;
  };
  const start = Date.UTC(2024, 0, 1);
  const pad = (n: number) => String(n).padStart(2, '0');
  let lines = ['dep_time,dep_delay,distance,origin,dest'];
  for (let i = 0; i < rows; i++) {
    const t = new Date(start + next(366) * 86_400_000 + next(1440) * 60_000);
    const stamp = `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:00`;
    lines.push(`${stamp},${next(320) - 20},${100 + next(2900)},${AIRPORTS[next(300)]},${AIRPORTS[next(300)]}`);
    if (lines.length === 100_000) {
      if (!out.write(lines.join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
      lines = [];
    }
  }
  out.end(lines.join('\n') + (lines.length ? '\n' : ''));
  await new Promise<void>((r) => out.on('close', () => r()));
  renameSync(tmp, file);
  return file;
}

type Row = { key: string; flights: number; delay: number; routes: number };

function readGroups(file: string): Row[] {
  const df = file.endsWith('.csv') ? pl.readCSV(file, { dtypes: { day: pl.String }, ignoreErrors: false }) : pl.readParquet(file);
  return (df.sort(['day', 'origin']).toRecords() as Record<string, unknown>[]).map((r) => ({
    key: `${String(r.day).slice(0, 10)}|${r.origin}`,
    flights: Number(r.flights),
    delay: Number(r.delay),
    routes: Number(r.routes),
  }));
}

function sameAnswer(a: Row[], b: Row[]): string | undefined {
  if (a.length !== b.length) return `${a.length} vs ${b.length} groups`;
  for (let i = 0; i < a.length; i++) {
    for (const k of ['key', 'flights', 'routes'] as const) if (a[i][k] !== b[i][k]) return `group ${a[i].key}: ${k} ${a[i][k]} vs ${b[i][k]}`;
    if (Math.abs(a[i].delay - b[i].delay) > 1e-6 * Math.max(1, Math.abs(a[i].delay))) return `group ${a[i].key}: delay ${a[i].delay} vs ${b[i].delay}`;
  }
  return undefined;
}

export async function obvious(rows: number, rounds: number) {
  const input = await ensureFlights(rows);
  const out = (name: string, ext: string) => `/tmp/sluice-bench-obvious-${name}.${ext}`;
  const sluice = (mode: 'inline' | 'thread' | 'process', withTable = false): Contender & { output: string } => ({
    name: `sluice, obvious stage ${mode === 'inline' ? 'inline' : `${mode} × 2`}${withTable ? ', ctx.table' : ''}`,
    cmd: [path.join(ROOT, 'bin/sluice'), 'run', path.join(__dirname, 'obvious/flights.config.ts'), '--quiet', '--log-level', 'warn'],
    env: { SLUICE_BENCH_INPUT: input, SLUICE_BENCH_OUTPUT: out(`${mode}${withTable ? '-table' : ''}`, 'parquet'), SLUICE_BENCH_MODE: mode, SLUICE_BENCH_OUTPUT_WITH: withTable ? 'table' : 'tableFromArrays' },
    output: out(`${mode}${withTable ? '-table' : ''}`, 'parquet'),
  });
  const contenders = [
    sluice('inline'),
    sluice('thread'),
    sluice('process'),
    sluice('thread', true),
    { name: 'Python Pool(2), stdlib', cmd: ['python3', path.join(__dirname, 'obvious/pool.py'), input, out('pool', 'csv')], output: out('pool', 'csv') },
    { name: 'DuckDB SQL', cmd: node(path.join(__dirname, 'obvious/duckdb.ts'), input, out('duckdb', 'parquet')), output: out('duckdb', 'parquet') },
  ];
  const answers: (string | undefined)[] = contenders.map(() => undefined);
  let reference: Row[] | undefined;
  const { medians, all } = interleaved(contenders, rounds, (i, m) => {
    const groups = readGroups(contenders[i].output);
    reference ??= groups;
    answers[i] ??= sameAnswer(reference, groups);
    console.log(`    ${contenders[i].name.padEnd(36)} ${fmt(m.wall_s).padStart(7)} s wall  ${fmt(m.cpu_s).padStart(7)} s CPU  ${fmt(m.max_rss_mb, 0).padStart(6)} MB peak`);
  });
  const results = contenders.map((c, i) => ({ ...medians[i], name: c.name, answer: answers[i] ? `DIFFERS: ${answers[i]}` : 'same', runs: all[i] }));
  console.log(`  medians of ${rounds} interleaved rounds (${rows.toLocaleString('en-US')} flights):`);
  for (const r of results) console.log(`  ${r.name.padEnd(36)} ${fmt(r.wall_s).padStart(7)} s wall  ${fmt(r.cpu_s).padStart(7)} s CPU  ${fmt(r.max_rss_mb, 0).padStart(6)} MB peak  answer: ${r.answer}`);
  const [inline, thread, proc, threadTable, pool, duck] = results;
  const best = Math.min(inline.wall_s, thread.wall_s, proc.wall_s);
  target('obvious code: every contender gives the same answer', results.every((r) => r.answer === 'same'), results.map((r) => `${r.name} ${r.answer}`).join('; '));
  // What two cores give any work here, without sluice: arithmetic alone, and the aggregate's memory-bound Map/Set per row.
  const bare = (work: 'alu' | 'map') => bareHash(work, 2_000_000, 3);
  const [alu, map] = [bare('alu'), bare('map')];
  const twoThreads = (b: { one: number; threads: number }) => fmt(b.one / b.threads);
  target(
    'obvious code: thread × 2 ≥ 1.8× inline',
    inline.wall_s / thread.wall_s >= 1.8,
    `${fmt(inline.wall_s / thread.wall_s)}× (${fmt(thread.wall_s)} s vs ${fmt(inline.wall_s)} s); inline already keeps ${fmt(inline.cpu_s / inline.wall_s)} cores busy, so with both cores busy throughout thread × 2 could reach 2 × inline's wall / its own CPU = ${fmt((2 * inline.wall_s) / thread.cpu_s)}×; two bare worker threads without sluice: arithmetic ${twoThreads(alu)}×, the aggregate's Map/Set per row ${twoThreads(map)}×`,
  );
  target('obvious code: sluice\'s best mode faster than Python Pool(2)', best < pool.wall_s, `${fmt(pool.wall_s / best)}× (${fmt(best)} s vs ${fmt(pool.wall_s)} s; process × 2 ${fmt(proc.wall_s)} s)`);
  console.log(`  with ctx.table for the output, thread × 2: ${fmt(threadTable.wall_s)} s (${fmt(thread.wall_s / threadTable.wall_s)}× the obvious one)`);
  console.log(`  DuckDB: ${fmt(best / duck.wall_s)}× faster than sluice's best mode (${fmt(duck.wall_s)} s)`);
  return { rows, results, bare: { alu, map } };
}
