/**
 * Appending to a partitioned output (issue 23): rows of another schema were accepted, and the
 * dataset then held two schemas in one partition, which DuckDB refuses to read. Every format
 * × (the same schema / another type of a column / another column order): the same schema is
 * added and DuckDB reads every row of both runs; another order is refused in every format;
 * another type in Parquet and Arrow (CSV and NDJSON write Int32 and Int64 alike, and keep
 * them). A refusal names the column and writes nothing: the output is as it was.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import type { PipelineConfig } from '../../src/config/types';
import { buildPlan } from '../../src/plan/build';
import { runPlan } from '../../src/runtime/run';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES } from '../helpers/workspace';

const SHIFT = path.join(FIXTURE_STAGES, 'schema-shift.ts');
const ROWS = 300;
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-append-schema-'));
beforeAll(() => writeFileSync(path.join(dir, 'in.csv'), ['id', ...Array.from({ length: ROWS }, (_, i) => String(i))].join('\n') + '\n'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FORMATS = ['parquet', 'arrow', 'csv', 'ndjson'] as const;
type Format = (typeof FORMATS)[number];

async function run(format: Format, out: string, mode: 'overwrite' | 'append', options: Record<string, unknown>) {
  const config: PipelineConfig = {
    name: 'append',
    source: { format: 'csv', path: 'in.csv', batchRows: 100 },
    stages: [{ name: 'shift', module: SHIFT, mode: 'inline', options }],
    sink: { format, path: out, mode, partitionBy: ['g'] },
  };
  const checked = checkConfig(config, '', dir);
  return runPlan(buildPlan(checked.config, checked), { log: pino({ level: 'silent' }) });
}

/** Every file of the output, relative, and the rows an independent reader finds in it. */
async function dataset(format: Format, out: string): Promise<{ files: string[]; rows: number }> {
  const files = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(`.${format}`)).sort();
  if (format === 'arrow') return { files, rows: files.reduce((n, f) => n + tableFromIPC(readFileSync(path.join(out, f))).numRows, 0) };
  const reader = { parquet: 'read_parquet', csv: 'read_csv', ndjson: 'read_json' }[format];
  const [{ n }] = await duckRows(`SELECT count(*)::INTEGER AS n FROM ${reader}('${out}/**/*.${format}', hive_partitioning = true)`);
  return { files, rows: Number(n) };
}

const CASES = [
  { change: 'nothing', options: { kind: 'int-width', variant: 'first' }, refused: [] as readonly Format[] },
  { change: 'the type of x (Int32 → Int64)', options: { kind: 'int-width', variant: 'other' }, refused: ['parquet', 'arrow'] as readonly Format[] },
  { change: 'the column order', options: { kind: 'order', variant: 'other' }, refused: FORMATS },
];
const cells = FORMATS.flatMap((format) => CASES.map((c) => ({ format, ...c, refuses: c.refused.includes(format) })));

it.each(cells)('appending to a partitioned $format output, with $change changed: refused $refuses', async ({ format, change, options, refuses }) => {
  const out = path.join(dir, `${format}-${change.replace(/\W+/g, '-')}`);
  await run(format, out, 'overwrite', { kind: 'int-width', variant: 'first' });
  const before = await dataset(format, out);
  expect(before.rows).toBe(ROWS);
  const appended = run(format, out, 'append', options);
  if (refuses) {
    await expect(appended).rejects.toThrow(change === 'the column order' ? /cannot append to .*columns \(x, id\) but .* has \(id, x\)/ : /cannot append to .*column "x" is Int64 in the rows to add but Int32 in /);
    expect(await dataset(format, out)).toEqual(before);
  } else {
    await appended;
    expect((await dataset(format, out)).rows).toBe(2 * ROWS);
  }
});
