/**
 * Batch size per chain (plan/chain-batch.ts): when the one stage reading a Parquet or Arrow
 * source is inline and every member of it declares `vectorised: true`, and `source.batchRows`
 * is not set, the source hands on its row groups (record batches) whole, not 65 536-row slices;
 * and a Parquet source on the main thread hands each batch on as the frame polars decoded, not
 * converted to Arrow and back (batch/frame-handoff.ts) unless something reads it in Arrow;
 * the rows and values are the same. The stage writes the rows of each batch it got (`seen`), the
 * output is read back by DuckDB (Arrow: by apache-arrow) and compared with DuckDB's reading of
 * the input.
 *
 * Cells, run in-process through `run()` (the checks, then the plan, as `sluice run`): the vectorised
 * stage alone on every sink (4 runs); with a column projection pushdown left out (the left-out
 * guard holds the frame without converting it), read as a frame and in Arrow; and, on one sink each, what keeps the default: a member
 * fused with it that does not declare it, `source.batchRows` set, thread mode; an Arrow source.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import pino from 'pino';
import { handoffs } from '../../src/batch/frame-handoff';
import { run } from '../../src/index';
import { duckRows } from '../helpers/duckdb';
import { explainInProcess } from '../helpers/in-process';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

// Row groups of 70 000 and 5 000 rows (one file each: polars writes a file as one group): the
// first is more than the default 65 536 rows a batch, so it is sliced unless the chain rule applies.
const GROUPS = [70_000, 5_000];

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-chain-batch-');
  mkdirSync(path.join(ws.dir, 'in'));
  let from = 0;
  for (const [i, n] of GROUPS.entries()) {
    const ids = Array.from({ length: n }, (_, k) => from + k);
    // `extra`: read by no stage of the left-out cells, so projection pushdown leaves it out there.
    const df = pl.DataFrame({ id: ids, x: ids.map((v) => v * 0.5), s: ids.map((v) => `k${v % 7}`), extra: ids.map((v) => -v) });
    df.writeParquet(path.join(ws.dir, 'in', `part-${i}.parquet`));
    if (i === 0) df.writeIPC(path.join(ws.dir, 'one.arrow'));
    from += n;
  }
});
afterAll(() => ws.cleanup());

const SEEN = path.join(FIXTURE_STAGES, 'polars-rows-seen.ts');
const STEP = path.join(FIXTURE_STAGES, 'polars-step.ts');
const quiet = { log: pino({ level: 'silent' }), quiet: true };

type Cell = { name: string; sink: 'parquet' | 'csv' | 'ndjson' | 'arrow'; source?: object; mode?: 'inline' | 'thread'; step?: boolean; arrow?: boolean; reads?: string[]; batches: number[]; frames?: number };
const runs: Cell[] = [
  // Each Parquet batch reaches the stage as the frame polars decoded (batch/frame-handoff.ts): taken, never converted.
  ...(['parquet', 'csv', 'ndjson', 'arrow'] as const).map((sink) => ({ name: `whole-${sink}`, sink, batches: GROUPS, frames: GROUPS.length })),
  // Read in Arrow by the stage: each frame converted then (its ctx.toDataFrame still gets the frame), the same rows.
  { name: 'read-in-arrow', sink: 'parquet', arrow: true, batches: GROUPS, frames: GROUPS.length },
  // `extra` left out by projection pushdown: the guard holds each frame as it is (batch/left-out-guard.ts), never converted unless read in Arrow.
  { name: 'left-out', sink: 'ndjson', reads: ['id', 'x', 's'], batches: GROUPS, frames: GROUPS.length },
  { name: 'left-out-read-in-arrow', sink: 'arrow', arrow: true, reads: ['id', 'x', 's'], batches: GROUPS, frames: GROUPS.length },
  { name: 'arrow-source', sink: 'csv', source: { format: 'arrow', path: 'one.arrow' }, batches: [GROUPS[0]], frames: 0 },
];
// What keeps the default, by the plan (the source cuts what the plan says: the cells above).
const kept: Omit<Cell, 'batches'>[] = [
  // polars-step does not declare vectorised: the chain keeps the default size.
  { name: 'mixed-chain', sink: 'parquet', step: true },
  { name: 'batch-rows-set', sink: 'csv', source: { batchRows: 65_536 } },
  { name: 'thread', sink: 'ndjson', mode: 'thread' },
];

function config(c: Omit<Cell, 'batches'>): string {
  const mode = c.mode ?? 'inline';
  const stages = [{ name: 'seen', module: SEEN, mode, concurrency: 1, options: { arrow: c.arrow ?? false, ...(c.reads && { reads: c.reads }) } }, ...(c.step ? [{ name: 'step', module: STEP, mode, concurrency: 1, options: { from: 'x', to: 'y' } }] : [])];
  return ws.config({ name: c.name, source: { format: 'parquet', path: 'in/*.parquet', ...c.source }, stages, sink: { format: c.sink, path: `out/${c.name}.${c.sink}` } }, `${c.name}.config.ts`);
}

const READ = { parquet: 'read_parquet', csv: 'read_csv', ndjson: 'read_json' } as const;

/** The batches' sizes in input order, from each row's `seen` (a batch's rows are consecutive ids). */
async function batchSizes(file: string, sink: Cell['sink']): Promise<number[]> {
  if (sink === 'arrow') {
    const t = tableFromIPC(readFileSync(file));
    const [ids, seen] = [t.getChild('id')!.toArray() as Int32Array | BigInt64Array, t.getChild('seen')!.toArray() as BigInt64Array];
    const sizes: number[] = [];
    for (let i = 0; i < t.numRows; i += Number(seen[i])) sizes.push(Number(seen[i]));
    return Number(ids[0]) === 0 ? sizes : [];
  }
  // Runs of equal `seen` in id order; a run of n rows is n / seen batches of that size.
  const rows = await duckRows(`SELECT seen, count(*) AS n FROM (SELECT seen, id, id - row_number() OVER (PARTITION BY seen ORDER BY id) AS run FROM ${READ[sink]}('${file}')) GROUP BY seen, run ORDER BY min(id)`);
  return rows.flatMap((r) => Array.from({ length: Number(r.n) / Number(r.seen) }, () => Number(r.seen)));
}

/** Rows in one and not the other, both ways (DuckDB); the Arrow output is checked by its sums. */
async function differences(file: string, sink: Cell['sink'], input: string): Promise<number> {
  if (sink === 'arrow') {
    const t = tableFromIPC(readFileSync(file));
    const want = (await duckRows(`SELECT count(*) AS n, sum(id) AS ids, sum(x) AS xs, sum(length(s) * id) AS ss FROM ${input}`))[0];
    let [ids, xs, ss] = [0, 0, 0];
    const [id, x, s] = [t.getChild('id')!, t.getChild('x')!, t.getChild('s')!];
    for (let i = 0; i < t.numRows; i++) {
      ids += Number(id.get(i));
      xs += Number(x.get(i));
      ss += String(s.get(i)).length * Number(id.get(i));
    }
    return [t.numRows - Number(want.n), ids - Number(want.ids), xs - Number(want.xs), ss - Number(want.ss)].filter((d) => d !== 0).length;
  }
  const out = `(SELECT id::BIGINT AS id, x::DOUBLE AS x, s::VARCHAR AS s FROM ${READ[sink]}('${file}'))`;
  const rows = await duckRows(`SELECT (SELECT count(*) FROM (FROM ${out} EXCEPT ALL FROM ${input})) + (SELECT count(*) FROM (FROM ${input} EXCEPT ALL FROM ${out})) AS n`);
  return Number(rows[0].n);
}

it.each(runs)('$name: batches of $batches rows, the input\'s rows and values', async (c) => {
  const before = { ...handoffs };
  await run(config(c), quiet);
  // Frames taken by ctx.toDataFrame as the source decoded them, and none converted to Arrow unless read so.
  expect(handoffs.taken - before.taken).toBe(c.frames);
  expect(handoffs.materialised - before.materialised).toBe(c.arrow ? GROUPS.length : 0);
  // The run did leave `extra` out (else the cell tests nothing).
  if (c.reads) expect(await explainInProcess(config(c))).toContain("left out, as no stage reads them and the sink does not get them (the stages' reads): extra");
  const file = path.join(ws.dir, 'out', `${c.name}.${c.sink}`);
  expect(await batchSizes(file, c.sink)).toEqual(c.batches);
  const input = c.source && 'format' in c.source ? `(SELECT id::BIGINT AS id, x::DOUBLE AS x, s::VARCHAR AS s FROM read_parquet('${ws.dir}/in/part-0.parquet'))` : `(SELECT id::BIGINT AS id, x::DOUBLE AS x, s::VARCHAR AS s FROM read_parquet('${ws.dir}/in/*.parquet'))`;
  expect(await differences(file, c.sink, input)).toBe(0);
});

it('explain says the source hands its row groups whole, and for which stage', async () => {
  const text = await explainInProcess(config(runs[0]));
  expect(text).toContain('its row groups whole as batches (up to 1,048,576 rows: the vectorised stage seen reads them)');
});

it.each(kept)('$name: the default 65 536 rows a batch', async (c) => {
  expect(await explainInProcess(config(c))).toContain('parquet, 2 file(s), 65,536 rows per batch');
});
