/**
 * Partitioned output, read back by an independent reader: every partition value comes back as
 * written (the null marker as a string stays a string, '' stays '' and not null, path syntax
 * stays text), one file per partition per run however few files may be open at once, and a
 * value too long for a directory name is refused naming the column. Every sink format, through
 * a whole run (a partitioned Parquet sink appends the parts its encoding stage sends).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../../../src/config';
import type { PipelineConfig, SinkConfig } from '../../../../src/config/types';
import { HIVE_NULL } from '../../../../src/io/sinks/partition';
import { openSource } from '../../../../src/io/sources';
import { buildPlan } from '../../../../src/plan/build';
import { runPlan } from '../../../../src/runtime/run';
import { duckRows } from '../../../helpers/duckdb';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-partition-values-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = pino({ level: 'silent' });
const FORMATS: SinkConfig['format'][] = ['parquet', 'csv', 'ndjson', 'arrow'];

async function run(name: string, rows: object[], sink: Partial<SinkConfig>, batchRows = 1000) {
  const input = path.join(dir, `${name}.ndjson`);
  writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const config: PipelineConfig = { name, source: { format: 'ndjson', path: input, batchRows }, stages: [], sink: { format: 'parquet', path: path.join(dir, name), partitionBy: ['k'], ...sink } as SinkConfig };
  const resolved = checkConfig(config, '', dir);
  return runPlan(buildPlan(resolved.config, resolved), { log: quiet });
}

function files(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.(parquet|csv|ndjson|arrow)$/.test(f));
}

/** `k` and `id` of every row as DuckDB reads the directory (hive_partitioning, values as text); Arrow IPC through sluice's own reader (DuckDB has no offline Arrow reader). */
async function readBack(format: SinkConfig['format'], root: string): Promise<[string | null, number][]> {
  if (format === 'arrow') {
    const source = await openSource({ format: 'arrow', path: `${root}/**/*.arrow`, batchRows: 1000 });
    const out: [string | null, number][] = [];
    for await (const item of source.batches()) {
      for (const b of item.batches) for (let i = 0; i < b.numRows; i++) out.push([b.getChild('k')!.get(i) as string | null, Number(b.getChild('id')!.get(i))]);
      item.release();
    }
    return out;
  }
  const glob = `${root}/**/*.${format}`;
  const from = { parquet: `read_parquet('${glob}', hive_partitioning = true, hive_types_autocast = false)`, csv: `read_csv('${glob}', hive_partitioning = true, hive_types_autocast = false)`, ndjson: `read_json('${glob}', format = 'newline_delimited', hive_partitioning = true, hive_types_autocast = false)` }[format];
  const rows = await duckRows(`SELECT k, id FROM ${from}`);
  return rows.map((r) => [r.k as string | null, Number(r.id)]);
}

// Each of these once changed on the way back or could: the marker read as null, '' written as
// the marker (so read as null), path syntax, escapes that look like escapes, dots, case, non-ASCII.
const VALUES: (string | null)[] = [HIVE_NULL, '', null, '/', '=', '%', '.', '..', 'a/b', 'x=y', '%2E', '%', ' spaced ', 'Abc', 'abc', 'é', '\\', 'k=v/..'];

describe.each(FORMATS)('a %s sink partitioned by a column of hostile values', (format) => {
  it('reads every value back as written (DuckDB, hive_partitioning)', async () => {
    const rows = VALUES.map((k, id) => ({ id, k }));
    const root = path.join(dir, `values-${format}`);
    await run(`values-${format}`, rows, { format, path: root });
    const back = (await readBack(format, root)).sort((a, b) => a[1] - b[1]);
    expect(back).toEqual(rows.map((r) => [r.k, r.id]));
  });
});

describe.each(FORMATS)('a %s sink with more partitions than maxOpenFiles', (format) => {
  it('writes one file per partition, every row in it', async () => {
    // 12 partitions, 3 open at most, 5 batches that each hold every partition: before, each
    // return of a partition after its file was closed opened a new part file (5 per partition).
    const keys = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const rows = Array.from({ length: 60 }, (_, id) => ({ id, k: keys[id % keys.length] }));
    const root = path.join(dir, `count-${format}`);
    await run(`count-${format}`, rows, { format, path: root, maxOpenFiles: 3 }, 12);
    const written = files(root);
    expect(written).toHaveLength(keys.length);
    expect(new Set(written.map((f) => path.dirname(f))).size).toBe(keys.length);
    const back = await readBack(format, root);
    expect(back.sort((a, b) => a[1] - b[1])).toEqual(rows.map((r) => [r.k, r.id]));
  });
});

it('refuses a value too long for a directory name, naming the column, and publishes nothing', async () => {
  const root = path.join(dir, 'long');
  const long = 'x'.repeat(300);
  await expect(run('long', [{ id: 1, k: 'short' }, { id: 2, k: long }], { format: 'csv', path: root })).rejects.toThrow(/partition value of column "k" is too long for a directory name: "x{40}"… \(300 bytes\)/);
  mkdirSync(root, { recursive: true }); // readdir of a missing folder throws
  expect(files(root)).toEqual([]);
});
