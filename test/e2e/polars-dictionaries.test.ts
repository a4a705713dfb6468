/**
 * The newcomer's join (issue 28): a JS stage returns its strings the obvious way
 * (`tableFromArrays`, a Dictionary<Int32, Utf8> per batch, or `ctx.table` given such a vector),
 * then a polars stage left-joins each batch to a small airports table with plain String keys,
 * compares with a string literal, and (aggregate) concatenates every batch's frame and groups
 * them at flush. Before, polars got the dictionary as a Categorical: the join failed with
 * "datatypes of join keys don't match". Now it gets the values, in every mode and arrangement.
 *
 * The matrix: every producer mode × consumer mode (thread → thread fused into one worker: the
 * report's stage names say so), with the aggregate, the ways of building the strings and the
 * sinks spread over them (see `cells`). Each output is read by DuckDB (polars for Arrow
 * files) and compared with DuckDB's own answer from the input files. The runs are in the test's
 * process (test/helpers/embedded-run.ts): their thread and process copies are real either way,
 * and the command around the run is not what this file is about. Every stage runs one copy:
 * each batch brings its own dictionary whichever copy gets it, and a copy costs its start-up
 * (a child loading polars ~1.5 CPU-s) in each of nine runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pl from 'nodejs-polars';
import { runEmbedded } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

const ROWS = 400;
const CODES = ['AAA', 'BBB', 'CCC', 'DDD', 'ÉÉÉ', 'ZZZ'];
// Each batch of 100 rows meets the codes in a different order (so its dictionary differs); nulls; codes not in airports (ZZZ).
const origin = (i: number) => (i % 13 === 0 ? null : CODES[(i * 7 + Math.floor(i / 100)) % CODES.length]);

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-polars-dict-');
  writeFileSync(path.join(ws.dir, 'in.csv'), 'id,origin,delay\n' + Array.from({ length: ROWS }, (_, i) => `${i},${origin(i) ?? ''},${(i % 17) - 3}.5`).join('\n') + '\n');
  writeFileSync(path.join(ws.dir, 'airports.csv'), 'origin,state\nAAA,CA\nBBB,NY\nCCC,TX\nDDD,CA\nÉÉÉ,QC\n');
});
afterAll(() => ws.cleanup());

const MODES = ['inline', 'thread', 'process'] as const;
const BUILDS = ['tableFromArrays', 'ctx.table-dictionary', 'ctx.table'] as const;
const SINKS = ['parquet', 'arrow', 'csv', 'ndjson'] as const;
// Every producer mode × consumer mode (thread → thread fused into one worker); the aggregate in
// every other cell (so after a consumer of each mode); the build (producer + consumer) mod 3, so
// every build comes from every producer mode and reaches every consumer mode; sink i mod 4. Nine runs (the full product
// with aggregates, builds and sinks would be 216).
const cells = MODES.flatMap((producer, p) => MODES.map((consumer, c) => ({ producer, consumer, build: BUILDS[(p + c) % 3] }))).map((cell, i) => ({
  ...cell,
  aggregate: i % 2 === 1,
  sink: SINKS[i % 4],
}));

it('the matrix has every build after every producer mode, the aggregate after every consumer mode, every sink', () => {
  expect(new Set(cells.map((c) => `${c.producer}|${c.build}`)).size).toBe(9);
  expect(new Set(cells.map((c) => `${c.consumer}|${c.build}`)).size).toBe(9);
  expect(new Set(cells.filter((c) => c.aggregate).map((c) => c.consumer)).size).toBe(3);
  expect(new Set(cells.map((c) => c.sink)).size).toBe(4);
  expect(cells.some((c) => c.producer === 'thread' && c.consumer === 'thread' && !c.aggregate)).toBe(true);
});

/** The expected answer, by DuckDB from the input files. */
async function expected(aggregate: boolean): Promise<Record<string, unknown>[]> {
  const input = `read_csv('${ws.dir}/in.csv', types = {'origin': 'VARCHAR'})`;
  const airports = `read_csv('${ws.dir}/airports.csv')`;
  if (aggregate) return duckRows(`SELECT f.origin, a.state, sum(f.delay)::DOUBLE AS delay, count(*)::INTEGER AS flights FROM ${input} f LEFT JOIN ${airports} a USING (origin) GROUP BY ALL ORDER BY f.origin NULLS FIRST`);
  return duckRows(`SELECT f.id::INTEGER AS id, f.origin, f.delay::DOUBLE AS delay, a.state, (f.origin = 'AAA') AS is_aaa FROM ${input} f LEFT JOIN ${airports} a USING (origin) ORDER BY f.id`);
}

/** The sink's output as rows, read by DuckDB (Arrow: by polars), in the expected order and types. */
async function output(file: string, sink: string, aggregate: boolean): Promise<Record<string, unknown>[]> {
  let rows: Record<string, unknown>[];
  if (sink === 'arrow') rows = pl.readIPC(readFileSync(file)).toRecords() as Record<string, unknown>[];
  else rows = await duckRows(`SELECT * FROM ${{ parquet: 'read_parquet', csv: 'read_csv', ndjson: 'read_json' }[sink]}('${file}')`);
  const norm = rows.map((r) =>
    aggregate
      ? { origin: r.origin ?? null, state: r.state ?? null, delay: Number(r.delay), flights: Number(r.flights) }
      : { id: Number(r.id), origin: r.origin ?? null, delay: Number(r.delay), state: r.state ?? null, is_aaa: r.is_aaa ?? null },
  );
  return aggregate ? norm.sort((a, b) => (a.origin === null ? -1 : b.origin === null ? 1 : String(a.origin) < String(b.origin) ? -1 : 1)) : norm;
}

it.each(cells)('$producer → $consumer, aggregate $aggregate, $build, to $sink: joins with plain strings, DuckDB\'s answer', async ({ producer, consumer, aggregate, build, sink }) => {
  const name = `${producer}-${consumer}-${aggregate ? 'agg' : 'rows'}`;
  const cfg = ws.config(
    {
      name,
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [
        { name: 'strings', module: path.join(FIXTURE_STAGES, 'strings-out.ts'), mode: producer, concurrency: 1, options: { build } },
        { name: 'join', module: path.join(FIXTURE_STAGES, aggregate ? 'polars-join-agg.ts' : 'polars-join.ts'), mode: consumer, concurrency: 1, options: { airports: path.join(ws.dir, 'airports.csv') } },
      ],
      sink: { format: sink, path: `out/${name}.${sink}` },
    },
    `${name}.config.ts`,
  );
  const r = await runEmbedded(cfg);
  expect(r.error).toBeUndefined();
  // Nothing logged at error level or above (the CLI ran with --log-level error and an empty stderr).
  expect(r.logs.filter((l) => (JSON.parse(l) as { level: number }).level >= 50)).toEqual([]);
  // thread → thread or inline → inline ran fused (one worker, or one chain on main), otherwise as two stages.
  const fused = producer === consumer && producer !== 'process';
  expect(r.report!.stages.map((s) => s.name).filter((n) => n.includes('strings') || n.includes('join'))).toEqual(fused ? ['strings+join'] : ['strings', 'join']);
  expect(await output(path.join(ws.dir, 'out', `${name}.${sink}`), sink, aggregate)).toEqual(await expected(aggregate));
});
