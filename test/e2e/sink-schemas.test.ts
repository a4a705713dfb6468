/**
 * Every sink writes every row or refuses (issue 23), through whole runs. A stage passes
 * batches whose schemas differ in one way (test/fixtures/stages/schema-shift.ts) to a sink:
 * either the output holds every row, read back by an independent reader (DuckDB; apache-arrow
 * for Arrow files, which DuckDB cannot read here) and the report's row count is that number,
 * or the run fails naming the stage and the batch and leaves nothing at the sink's path. And
 * an output without rows is a valid file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import type { PipelineConfig } from '../../src/config/types';
import { buildPlan } from '../../src/plan/build';
import { runPlan } from '../../src/runtime/run';
import { duckRows } from '../helpers/duckdb';
import { pairwise } from '../helpers/pairwise';
import { FIXTURE_STAGES } from '../helpers/workspace';

const SHIFT = path.join(FIXTURE_STAGES, 'schema-shift.ts');
const ROWS = 600;
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-sink-schemas-'));
beforeAll(() => {
  writeFileSync(path.join(dir, 'in.csv'), ['id', ...Array.from({ length: ROWS }, (_, i) => String(i))].join('\n') + '\n');
  writeFileSync(path.join(dir, 'empty.csv'), 'id\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SINKS = ['arrow', 'parquet', 'parquet-partitioned', 'csv', 'ndjson'] as const;
type SinkKind = (typeof SINKS)[number];

function sinkConfig(sink: SinkKind, out: string): PipelineConfig['sink'] {
  const format = sink === 'parquet-partitioned' ? 'parquet' : sink;
  return { format, path: out, ...(sink === 'parquet-partitioned' && { partitionBy: ['g'] }) };
}

/** Rows in the output and its columns, as an independent reader sees them. */
async function readBack(sink: SinkKind, out: string): Promise<{ rows: number; columns: string[] }> {
  if (sink === 'arrow') {
    const table = tableFromIPC(readFileSync(out));
    return { rows: table.numRows, columns: table.schema.fields.map((f) => f.name) };
  }
  const reader = { parquet: 'read_parquet', 'parquet-partitioned': 'read_parquet', csv: 'read_csv', ndjson: 'read_json' }[sink];
  const from = sink === 'parquet-partitioned' ? `${reader}('${out}/**/*.parquet', hive_partitioning = true)` : `${reader}('${out}')`;
  const [{ n }] = await duckRows(`SELECT count(*)::INTEGER AS n FROM ${from}`);
  const columns = (await duckRows(`DESCRIBE SELECT * FROM ${from}`)).map((r) => String(r.column_name));
  return { rows: Number(n), columns };
}

async function runShift(name: string, sink: SinkKind, options: Record<string, unknown>, extra: { mode?: 'inline' | 'thread' | 'process'; input?: string } = {}) {
  const out = path.join(dir, 'out', sink === 'parquet-partitioned' ? name : `${name}.${sink}`);
  const config: PipelineConfig = {
    name,
    source: { format: 'csv', path: extra.input ?? 'in.csv', batchRows: 100 },
    stages: [{ name: 'shift', module: SHIFT, mode: extra.mode ?? 'inline', options }],
    sink: sinkConfig(sink, out),
  };
  const checked = checkConfig(config, '', dir);
  const plan = buildPlan(checked.config, checked);
  try {
    return { out, report: await runPlan(plan, { log: pino({ level: 'silent' }) }), error: undefined };
  } catch (error) {
    return { out, report: undefined, error: error as Error };
  }
}

/**
 * Each kind of difference at least once, each sink and each mode several times: a diagonal,
 * not the product, which test/unit/io/sinks/output-schema.test.ts runs whole at the sink (a
 * run costs seconds here, a sink write milliseconds). `writes`: every row, or a refusal.
 */
const diagonal = [
  { kind: 'nullable', sink: 'arrow', mode: 'thread', writes: true },
  { kind: 'nested-nullable', sink: 'arrow', mode: 'process', writes: true },
  { kind: 'metadata', sink: 'parquet', mode: 'inline', writes: true },
  { kind: 'dictionary', sink: 'arrow', mode: 'inline', writes: true },
  { kind: 'dictionary', sink: 'parquet-partitioned', mode: 'thread', writes: false },
  { kind: 'large-utf8', sink: 'csv', mode: 'process', writes: true },
  { kind: 'utf8-view', sink: 'arrow', mode: 'inline', writes: false },
  { kind: 'int-width', sink: 'ndjson', mode: 'thread', writes: true },
  { kind: 'int-width', sink: 'parquet', mode: 'process', writes: false },
  { kind: 'timestamp-unit', sink: 'parquet-partitioned', mode: 'inline', writes: false },
  { kind: 'timestamp-zone', sink: 'csv', mode: 'thread', writes: false },
  { kind: 'order', sink: 'ndjson', mode: 'inline', writes: false },
  { kind: 'duplicate', sink: 'parquet', mode: 'thread', writes: false },
] as const;

describe.each(diagonal)('a stage whose batches differ by $kind, into a $sink sink ($mode)', ({ kind, sink, mode, writes }) => {
  if (writes) {
    it('writes every row, and the report counts the rows in the file', async () => {
      const { out, report, error } = await runShift(`${kind}-${sink}`, sink, { kind }, { mode });
      expect(error).toBeUndefined();
      const got = await readBack(sink, out);
      expect(got.rows).toBe(ROWS);
      expect(report!.sink.rows).toBe(got.rows);
    });
  } else {
    it('refuses, naming the stage and the batch, and writes nothing', async () => {
      const { out, error } = await runShift(`${kind}-${sink}`, sink, { kind }, { mode });
      expect(error?.message).toMatch(/stage "shift", batch #\d+/);
      expect(error?.message).toMatch(kind === 'order' ? /columns \(x, id, g\)/ : kind === 'duplicate' ? /two columns named "id"/ : /column "x"/);
      expect(existsSync(out)).toBe(false);
    });
  }
});

/**
 * No row reaches the sink. Every sink × (the stage returns empty batches / returns nothing /
 * the source is a header-only CSV) × mode, pairwise (all pairs of the three, not the product).
 * An output without rows is a file every reader opens, with the columns; a run where not even
 * an empty batch came refuses, since its columns are unknown.
 */
const empties = pairwise({ sink: SINKS, input: ['empty batches', 'nothing', 'header-only source'], mode: ['inline', 'thread', 'process'] } as const);

describe.each(empties)('$input into a $sink sink ($mode)', ({ sink, input, mode }) => {
  const name = `empty-${sink}-${input.replace(/ /g, '-')}-${mode}`;
  if (input === 'nothing') {
    it('refuses, naming the stage, and writes nothing', async () => {
      const { out, error } = await runShift(name, sink, { empty: 'nothing' }, { mode });
      expect(error?.message).toMatch(/stage "shift" passed on no batch/);
      expect(existsSync(out)).toBe(false);
    });
    return;
  }
  it('writes a valid output without rows, with the columns (NDJSON: an empty file, which DuckDB reads as no rows)', async () => {
    const { out, report, error } = await runShift(name, sink, input === 'empty batches' ? { empty: 'batches' } : {}, { mode, input: input === 'header-only source' ? 'empty.csv' : undefined });
    expect(error).toBeUndefined();
    const got = await readBack(sink, out);
    expect(got.rows).toBe(0);
    expect(report!.sink.rows).toBe(0);
    if (sink === 'ndjson') expect(statSync(out).size).toBe(0);
    else expect(got.columns).toEqual(['id', 'x', 'g']);
  });
});
