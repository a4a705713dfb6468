/**
 * The sink's one schema (io/sinks/output-schema.ts) × every sink, the full product: each kind
 * of difference between two batches (test/fixtures/stages/schema-shift.ts) is either refused
 * by the check, naming the batch, or written whole by the sink itself, read back by an
 * independent reader (DuckDB; apache-arrow for Arrow files, which DuckDB cannot read here)
 * with the row count the sink reports. test/e2e/sink-schemas.test.ts runs the same through
 * whole pipelines.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import { openSink } from '../../../../src/io/sinks';
import { OutputSchema } from '../../../../src/io/sinks/output-schema';
import type { SinkConfig } from '../../../../src/config/types';
import { duckRows } from '../../../helpers/duckdb';
import { KINDS, shiftBatch, type Kind } from '../../../fixtures/stages/schema-shift';

const SINKS = ['arrow', 'parquet', 'parquet-partitioned', 'csv', 'ndjson'] as const;
type SinkKind = (typeof SINKS)[number];

/** Per kind of difference, the sinks that write every row; the others refuse it. */
const WRITES: Record<Kind, readonly SinkKind[]> = {
  same: SINKS,
  nullable: SINKS,
  metadata: SINKS,
  'nested-nullable': SINKS,
  dictionary: ['arrow', 'csv', 'ndjson'],
  'large-utf8': ['csv', 'ndjson'],
  'utf8-view': ['csv', 'ndjson'],
  'int-width': ['csv', 'ndjson'],
  'timestamp-unit': ['csv', 'ndjson'],
  'timestamp-zone': [],
  order: [],
  duplicate: [],
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-output-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const format = (sink: SinkKind): SinkConfig['format'] => (sink === 'parquet-partitioned' ? 'parquet' : sink);

async function rowsIn(sink: SinkKind, out: string): Promise<number> {
  if (sink === 'arrow') return tableFromIPC(readFileSync(out)).numRows;
  const reader = { parquet: 'read_parquet', 'parquet-partitioned': 'read_parquet', csv: 'read_csv', ndjson: 'read_json' }[sink];
  const from = sink === 'parquet-partitioned' ? `${reader}('${out}/**/*.parquet', hive_partitioning = true)` : `${reader}('${out}')`;
  return Number((await duckRows(`SELECT count(*)::INTEGER AS n FROM ${from}`))[0].n);
}

const cells = KINDS.flatMap((kind) => SINKS.map((sink) => ({ kind, sink, writes: WRITES[kind].includes(sink) })));

it.each(cells)('batches differing by $kind, to a $sink sink: written whole $writes', async ({ kind, sink, writes }) => {
  const batches: RecordBatch[] = [shiftBatch(kind, true, [0, 1, 2, 3]), shiftBatch(kind, false, [4, 5, 6]), shiftBatch(kind, false, [7, 8])];
  const schema = new OutputSchema(format(sink));
  const check = () => batches.forEach((b, seq) => schema.check(b, `stage "s", batch #${seq}`));
  if (!writes) {
    expect(check).toThrow(/stage "s", batch #1 .*stage "s", batch #0|stage "s", batch #0 has two columns/);
    return;
  }
  check();
  const out = path.join(dir, `${kind}-${sink}${sink === 'parquet-partitioned' ? '' : `.${sink}`}`);
  const opened = await openSink({ format: format(sink), path: out, ...(sink === 'parquet-partitioned' && { partitionBy: ['g'] }) });
  for (const [seq, b] of batches.entries()) await opened.write(b, { seq });
  const result = await opened.commit();
  expect(await rowsIn(sink, out)).toBe(9);
  expect(result.rows).toBe(9);
});
