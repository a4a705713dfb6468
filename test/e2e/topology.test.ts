/**
 * The stages sluice adds to the topology, in every shape a pipeline can take: every sink format
 * × partitioned or not × no stage of the user's, a thread stage, a process stage. PAIRWISE, not
 * the full product (24 runs): every pair of values of any two of the three dimensions at least
 * once (test/helpers/pairwise.ts), 12 runs, plus the cells whose three values together make a
 * shape of their own, whatever pairwise picks: the plain conversion (Parquet, not partitioned,
 * no stage: the only cell without user stages or partitioning before the encoder, planned as
 * chunks into the encoding stage), and a partitioned Parquet sink behind each kind of user
 * stage (the two stages sluice adds, after a stage of each mode). Each run checks the topology (explain and the report list
 * `partition-by` before a partitioned sink and `parquet-encode` before a Parquet one, each with
 * every row through it, and no other runtime: a plain CSV → Parquet conversion is the same
 * scheduler with a chunk source) and the output, read back by an independent reader (DuckDB;
 * apache-arrow's own reader for Arrow files, which DuckDB cannot read here), row for row
 * against the input.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import type { PipelineConfig } from '../../src/config/types';
import { PARQUET_ENCODE_STAGE, PARTITION_STAGE } from '../../src/defaults';
import { buildPlan } from '../../src/plan/build';
import { renderPlan } from '../../src/plan/explain';
import { runPlan } from '../../src/runtime/run';
import { duckRows } from '../helpers/duckdb';
import { pairwise } from '../helpers/pairwise';

const PASS_THROUGH = path.resolve(__dirname, '../../src/worker/passthrough.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-topology-'));
const ROWS = 1500;
const DAYS = ['2026-11-28', '2026-11-29', '2026-11-30'];

interface Row {
  id: number;
  day: string;
  amount: number | null;
  name: string;
}
const rows: Row[] = Array.from({ length: ROWS }, (_, i) => ({ id: i, day: DAYS[i % 3], amount: i % 10 === 0 ? null : i / 4, name: i % 7 === 0 ? `a, "quoted" ${i}` : `n${i}` }));
const csvField = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

beforeAll(() => {
  const lines = ['id,day,amount,name', ...rows.map((r) => [r.id, r.day, r.amount ?? '', csvField(r.name)].join(','))];
  writeFileSync(path.join(dir, 'in.csv'), lines.join('\n') + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FORMATS = ['parquet', 'csv', 'ndjson', 'arrow'] as const;
const DIMS = { format: FORMATS, partitioned: [false, true], stage: ['none', 'thread', 'process'] } as const;
type Cell = { format: (typeof FORMATS)[number]; partitioned: boolean; stage: 'none' | 'thread' | 'process' };
const REQUIRED: Cell[] = [{ format: 'parquet', partitioned: false, stage: 'none' }, ...DIMS.stage.map((stage) => ({ format: 'parquet' as const, partitioned: true, stage }))];
const same = (a: Cell, b: Cell) => a.format === b.format && a.partitioned === b.partitioned && a.stage === b.stage;
const cells: Cell[] = [...REQUIRED, ...pairwise(DIMS).filter((c) => !REQUIRED.some((r) => same(r, c)))];

it('covers every pair of sink format, partitioning and user stage, and the shapes of their own', () => {
  for (const f of FORMATS) for (const p of DIMS.partitioned) expect(cells.some((c) => c.format === f && c.partitioned === p)).toBe(true);
  for (const f of FORMATS) for (const st of DIMS.stage) expect(cells.some((c) => c.format === f && c.stage === st)).toBe(true);
  for (const p of DIMS.partitioned) for (const st of DIMS.stage) expect(cells.some((c) => c.partitioned === p && c.stage === st)).toBe(true);
  for (const r of REQUIRED) expect(cells.filter((c) => same(c, r))).toHaveLength(1);
  expect(cells.length).toBeLessThan(FORMATS.length * 2 * 3);
});

/** What came back, in id order, the partition column as text. */
async function readBack(format: (typeof FORMATS)[number], out: string, partitioned: boolean): Promise<Row[]> {
  if (format === 'arrow') {
    const files = partitioned ? readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.arrow')).map((f) => path.join(out, f)) : [out];
    const got: Row[] = [];
    for (const file of files) {
      const day = partitioned ? /day=([^/]+)/.exec(file)![1] : undefined;
      for (const r of tableFromIPC(readFileSync(file)).toArray()) got.push({ id: Number(r.id), day: day ?? String(r.day), amount: r.amount === null ? null : Number(r.amount), name: String(r.name) });
    }
    return got.sort((a, b) => a.id - b.id);
  }
  const reader = { parquet: 'read_parquet', csv: 'read_csv', ndjson: 'read_json' }[format];
  const glob = partitioned ? `${out}/**/*.${format}` : out;
  const hive = partitioned ? ', hive_partitioning = true' : '';
  const got = await duckRows(`SELECT id::INTEGER AS id, day::VARCHAR AS day, amount::DOUBLE AS amount, name::VARCHAR AS name FROM ${reader}('${glob}'${hive}) ORDER BY id`);
  return got as unknown as Row[];
}

describe.each(cells)('a $format sink, partitioned $partitioned, user stage $stage', ({ format, partitioned, stage }) => {
  it('runs sluice\'s own stages in the topology and writes every row as it was read', async () => {
    const name = `${format}-${partitioned ? 'p' : 'f'}-${stage}`;
    const out = path.join(dir, 'out', partitioned ? name : `${name}.${format}`);
    const config: PipelineConfig = {
      name,
      source: { format: 'csv', path: 'in.csv', batchRows: 400, inferRows: 400, schema: { day: 'utf8' } },
      stages: stage === 'none' ? [] : [{ name: 'pass', module: PASS_THROUGH, mode: stage, concurrency: stage === 'thread' ? 2 : 1 }],
      sink: { format, path: out, ...(partitioned && { partitionBy: ['day'] }), ...(format === 'parquet' && { rowGroupSize: 500 }) },
    };
    const checked = checkConfig(config, '', dir);
    const plan = buildPlan(checked.config, checked);
    const expected = [...(stage === 'none' ? [] : ['pass']), ...(partitioned ? [PARTITION_STAGE] : []), ...(format === 'parquet' ? [PARQUET_ENCODE_STAGE] : [])];
    expect(plan.stages.map((s) => s.name)).toEqual(expected);
    // A plain conversion is a plan shape (chunks into the encoding stage), not another runtime.
    expect(plan.direct !== undefined).toBe(format === 'parquet' && !partitioned && stage === 'none');
    const text = renderPlan(plan, [path.join(dir, 'in.csv')]);
    for (const s of expected) expect(text).toMatch(new RegExp(`stage\\s+${s}: `));

    const report = await runPlan(plan, { log: pino({ level: 'silent' }) });
    expect(report.stages.map((s) => s.name)).toEqual(expected);
    for (const s of report.stages) expect([s.name, s.rowsIn, s.rowsOut]).toEqual([s.name, ROWS, ROWS]);
    expect(report.sink.rows).toBe(ROWS);
    expect(report.timeline!.stages.map((s) => s.name)).toEqual(expected);

    const got = await readBack(format, out, partitioned);
    expect(got).toEqual(rows);
  }, 60_000);
});
