/**
 * A plain CSV → Parquet conversion runs directly (chunks parsed and encoded as row groups on
 * the encoder threads, no Arrow batches): the same file as through the batch path, row
 * groups of exactly `rowGroupSize` rows, the source's errors with file, line and column, and
 * nothing left at the target when it fails or is aborted.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import pino from 'pino';
import { checkConfig } from '../../../src/config';
import type { PipelineConfig } from '../../../src/config/types';
import { readRowGroups } from '../../../src/io/parquet/footer';
import { buildPlan } from '../../../src/plan/build';
import { renderPlan } from '../../../src/plan/explain';
import { reportOf, runPlan } from '../../../src/runtime/run';
import type { ProgressSnapshot, RunOptions } from '../../../src/runtime/types';

const PASS_THROUGH = path.resolve(__dirname, '../../../src/worker/passthrough.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-direct-'));
const quiet = pino({ level: 'silent' });

/** Rows with every kind of value the CSV reader must keep exact, RFC 4180 quoting included. */
function writeInput(file: string, from: number, rows: number): void {
  const lines = ['id,zip,big,amount,ok,day,note'];
  for (let i = from; i < from + rows; i++) {
    const note = i % 7 === 0 ? '"has, comma and ""quotes""\nand a newline"' : i % 11 === 0 ? '' : `plain ${i} é`;
    lines.push([i, `0${8000 + (i % 300)}`, (2n ** 60n + BigInt(i)).toString(), i % 13 === 0 ? '' : (i / 8).toFixed(3), i % 2 ? 'true' : 'false', `2026-11-${String(1 + (i % 28)).padStart(2, '0')}`, note].join(','));
  }
  writeFileSync(file, lines.join('\r\n') + '\r\n');
}

async function run(config: PipelineConfig, opts: RunOptions = {}) {
  const resolved = checkConfig(config, '', dir);
  const plan = buildPlan(resolved.config, resolved);
  return { plan, report: await runPlan(plan, { log: quiet, ...opts }) };
}

const convert = (name: string, extra: { source?: object; sink?: object; stages?: PipelineConfig['stages'] } = {}): PipelineConfig => ({
  name,
  source: { format: 'csv', path: 'in/part-*.csv', inferRows: 50, ...extra.source },
  stages: extra.stages ?? [],
  sink: { format: 'parquet', path: `out/${name}.parquet`, rowGroupSize: 100, ...extra.sink },
});

const leftovers = () => (existsSync(path.join(dir, 'out')) ? readdirSync(path.join(dir, 'out')) : []);

beforeAll(() => {
  for (const d of ['in', 'bad', 'ragged', 'header-only', 'mixed']) mkdirSync(path.join(dir, d));
  writeInput(path.join(dir, 'in/part-1.csv'), 0, 530);
  writeInput(path.join(dir, 'in/part-2.csv'), 530, 470);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the plan', () => {
  const plan = (c: PipelineConfig) => buildPlan(checkConfig(c, '', dir).config, { file: '', baseDir: dir });

  it('converts directly when CSV goes to one Parquet file with no stage between', () => {
    expect(plan(convert('a')).direct).toEqual({ rowsPerChunk: 100 });
    // A plan shape, not a second runtime: a chunk source feeding the Parquet encoding stage.
    const text = renderPlan(plan(convert('a')), ['x.csv']);
    expect(text).toMatch(/source\s+csv, 1 file\(s\), read on the main thread and cut into chunks of 100 rows of CSV text/);
    expect(text).toMatch(/stage\s+parquet-encode: thread × \d+ \(up to \d+ chunks in flight\)\s+\(built in: each chunk parsed with polars and encoded as one Parquet row group/);
    expect(plan(convert('a')).stages.map((s) => [s.name, s.encode?.input])).toEqual([['parquet-encode', 'csv']]);
  });

  it('uses batches when a stage runs, the output is partitioned or not Parquet, or inference needs more rows than a row group', () => {
    expect(plan(convert('a', { stages: [{ name: 'p', module: PASS_THROUGH, mode: 'inline' }] })).direct).toBeUndefined();
    expect(plan(convert('a', { sink: { partitionBy: ['day'], path: 'out/p' } })).direct).toBeUndefined();
    expect(plan(convert('a', { sink: { format: 'csv', rowGroupSize: undefined } })).direct).toBeUndefined();
    expect(plan(convert('a', { source: { inferRows: 101 } })).direct).toBeUndefined();
  });
});

describe('the live display', () => {
  const through: { stages?: PipelineConfig['stages'] } = { stages: [{ name: 'p', module: PASS_THROUGH, mode: 'inline' }] };
  it.each([
    ['direct', 'd', {}],
    ['through batches', 'b', through],
  ])('gets the Parquet encoder on the sink line (%s), and a CSV sink none', async (_, tag, extra: { stages?: PipelineConfig['stages'] }) => {
    const last = async (config: PipelineConfig) => {
      const seen: ProgressSnapshot[] = [];
      await run(config, { onProgress: (p) => seen.push(p), progressIntervalMs: 5 });
      return seen.at(-1)!; // the final one, emitted when the run ends
    };
    const parquet = await last(convert(`live-${tag}`, extra));
    expect(parquet.sink.encoder!.busyPercent).toBeGreaterThanOrEqual(0);
    expect(parquet.sink.encoder!.busyPercent).toBeLessThanOrEqual(100);
    expect(parquet.sink.encoder!.waitPercent).toBeGreaterThanOrEqual(0);
    const csv = await last(convert(`live-csv-${tag}`, { ...extra, sink: { format: 'csv', path: `out/live-${tag}.csv`, rowGroupSize: undefined } }));
    expect(csv.sink.encoder).toBeUndefined();
  });
});

describe('a direct conversion', () => {
  it('writes the same file as the batch path, in row groups of exactly rowGroupSize rows', async () => {
    const direct = await run(convert('direct'));
    const batches = await run(convert('batches', { stages: [{ name: 'p', module: PASS_THROUGH, mode: 'inline' }], source: { batchRows: 64 } }));
    expect(direct.plan.direct).toBeDefined();
    expect(batches.plan.direct).toBeUndefined();
    expect(direct.report.direct).toEqual({ rowsPerChunk: 100 });
    // The encoder's work is in the report, both ways: it did all the parsing and encoding here,
    // on threads for the conversion, on the main thread for the batches (a small output: no thread started).
    expect(direct.report.sink.encoder).toMatchObject({ groupsOnMainThread: 0 });
    expect(direct.report.sink.encoder!.threadsStarted).toBeGreaterThanOrEqual(1);
    expect(batches.report.sink.encoder).toMatchObject({ threadsStarted: 0 });
    expect(batches.report.sink.encoder!.groupsOnMainThread).toBeGreaterThanOrEqual(1);
    for (const r of [direct.report, batches.report]) {
      expect(r.sink.encoder!.busyMs).toBeGreaterThan(0);
      expect(r.sink.encoder!.slotWaitMs).toBeGreaterThanOrEqual(0);
    }
    expect(direct.report.source.rows).toBe(1000);
    expect((await run(convert('as-csv', { sink: { format: 'csv', path: 'out/as.csv', rowGroupSize: undefined } }))).report.sink.encoder).toBeUndefined();
    expect(direct.report.sink.rows).toBe(1000);

    const a = path.join(dir, 'out/direct.parquet');
    const b = path.join(dir, 'out/batches.parquet');
    // row groups span files (530 + 470 rows): the first file's last 30 rows and the second's first 70 are one group, as in the batch path
    expect((await readRowGroups(a)).map((g) => g.rows)).toEqual(Array(10).fill(100));
    expect((await readRowGroups(b)).map((g) => g.rows)).toEqual(Array(10).fill(100));
    const da = pl.readParquet(a);
    const db = pl.readParquet(b);
    expect(da.frameEqual(db, true)).toBe(true);
    // the Arrow types as read back, too (polars normalises some on reading)
    expect(tableFromIPC(da.writeIPC()).schema.fields.map(String)).toEqual(tableFromIPC(db.writeIPC()).schema.fields.map(String));
    expect(da.dtypes.map(String)).toEqual(['Int64', 'String', 'Int64', 'Float64', 'Bool', 'Date', 'String'].map((t) => `DataType(${t})`));
    // values kept exact: leading zeros, integers beyond 2^53, quoted commas/quotes/newlines, empty → null
    const row7 = da.row(7);
    expect(row7[1]).toBe('08007');
    expect(tableFromIPC(da.writeIPC()).getChild('big')!.get(7)).toBe(2n ** 60n + 7n);
    expect(row7[6]).toBe('has, comma and "quotes"\nand a newline');
    expect(da.getColumn('amount').get(13)).toBeNull();
  });

  it('honours the CSV options (.gz, delimiter, quote, no header, null values, projection) as the batch path does', async () => {
    mkdirSync(path.join(dir, 'opts'));
    const rows = Array.from({ length: 250 }, (_, i) => `${i};'it''s; ${i}';${i % 5 ? i / 2 : 'NA'};x${i}`).join('\r\n');
    writeFileSync(path.join(dir, 'opts/o.csv.gz'), gzipSync(Buffer.from(rows + '\r\n')));
    const source = { path: 'opts/o.csv.gz', delimiter: ';', quote: "'", header: false, nullValues: ['NA'], columns: ['column_3', 'column_2'] };
    const direct = await run(convert('opts-direct', { source }));
    await run(convert('opts-batches', { source: { ...source, batchRows: 64 }, stages: [{ name: 'p', module: PASS_THROUGH, mode: 'inline' }] }));
    expect(direct.plan.direct).toBeDefined();
    const da = pl.readParquet(path.join(dir, 'out/opts-direct.parquet'));
    expect(da.frameEqual(pl.readParquet(path.join(dir, 'out/opts-batches.parquet')), true)).toBe(true);
    expect(da.columns).toEqual(['column_3', 'column_2']);
    expect(da.row(1)).toEqual([0.5, "it's; 1"]);
    expect(da.getColumn('column_3').get(5)).toBeNull();
  });

  it('refuses an empty input (no header) as the batch path does, naming the file and leaving nothing', async () => {
    mkdirSync(path.join(dir, 'empty'));
    const empty = path.join(dir, 'empty/e.csv');
    writeFileSync(empty, '');
    const direct = await run(convert('empty-direct', { source: { path: 'empty/e.csv' } })).catch((e: Error) => e);
    const batches = await run(convert('empty-batches', { source: { path: 'empty/e.csv' }, stages: [{ name: 'p', module: PASS_THROUGH, mode: 'inline' }] })).catch((e: Error) => e);
    for (const err of [direct, batches]) expect((err as Error).message).toContain(`${empty}: empty file: no header`);
    expect(existsSync(path.join(dir, 'out/empty-direct.parquet'))).toBe(false);
    expect(existsSync(path.join(dir, 'out/empty-batches.parquet'))).toBe(false);
  });

  it('fails on a value that does not fit its column with file, line and column, and leaves nothing', async () => {
    const bad = path.join(dir, 'bad');
    writeInput(path.join(bad, 'part-1.csv'), 0, 640);
    // row 600 (after chunks that already parsed fine): not an integer
    const text = readFileSync(path.join(bad, 'part-1.csv'), 'utf8');
    const at = text.indexOf('\r\n600,') + 2;
    writeFileSync(path.join(bad, 'part-1.csv'), text.slice(0, at) + 'six hundred' + text.slice(at + 3));
    // physical line: quoted newlines count
    const line = text.slice(0, at).split('\n').length;
    const err = await run(convert('bad', { source: { path: 'bad/*.csv' } })).catch((e) => e);
    expect(err.code).toBe('SLUICE_SOURCE_INVALID');
    expect(err.message).toContain(`${path.join(bad, 'part-1.csv')}, line ${line}, column "id": value "six hundred" is not a valid int64`);
    expect(reportOf(err)?.ok).toBe(false);
    expect(leftovers().filter((f) => f.includes('bad'))).toEqual([]);
  });

  it('names the first bad value in input order, though chunks parse on several threads', async () => {
    const twice = path.join(dir, 'twice');
    mkdirSync(twice);
    // rows 150 and 451 are bad: chunks 1 and 4 of 6 (100 rows each), parsed concurrently
    writeFileSync(path.join(twice, 't.csv'), 'n\n' + Array.from({ length: 600 }, (_, i) => (i === 150 || i === 451 ? 'x' : String(i))).join('\n') + '\n');
    for (let k = 0; k < 3; k++) {
      const err = await run(convert('twice', { source: { path: 'twice/t.csv' } })).catch((e) => e);
      expect(err.message).toContain('t.csv, line 152, column "n": value "x" is not a valid int64');
    }
  });

  it('fails on a ragged row with its line, and leaves nothing', async () => {
    const ragged = path.join(dir, 'ragged');
    writeFileSync(path.join(ragged, 'r.csv'), 'a,b\n' + Array.from({ length: 300 }, (_, i) => (i === 250 ? `${i},x,extra` : `${i},x`)).join('\n') + '\n');
    const err = await run(convert('ragged', { source: { path: 'ragged/r.csv' } })).catch((e) => e);
    expect(err.message).toContain('r.csv, line 252: expected 2 fields, found 3 (ragged row)');
    expect(leftovers().filter((f) => f.includes('ragged'))).toEqual([]);
  });

  it('writes a header-only file as a Parquet file with its columns and no rows', async () => {
    const header = path.join(dir, 'header-only');
    writeFileSync(path.join(header, 'h.csv'), 'id,name\n');
    const { report } = await run(convert('header', { source: { path: 'header-only/h.csv', schema: { id: 'int32' } } }));
    expect(report.sink.rows).toBe(0);
    const df = pl.readParquet(path.join(dir, 'out/header.parquet'));
    expect(df.height).toBe(0);
    expect(df.columns).toEqual(['id', 'name']);
    expect(df.dtypes.map(String)).toEqual(['DataType(Int32)', 'DataType(String)']);
  });

  it('refuses files whose columns differ', async () => {
    const other = path.join(dir, 'mixed');
    writeFileSync(path.join(other, 'a.csv'), 'id,name\n1,x\n');
    writeFileSync(path.join(other, 'b.csv'), 'id,title\n2,y\n');
    const err = await run(convert('mixed', { source: { path: 'mixed/*.csv', inferRows: 1 } })).catch((e) => e);
    expect(err.message).toMatch(/b\.csv.*columns differ from .*a\.csv/);
    expect(leftovers().filter((f) => f.includes('mixed'))).toEqual([]);
  });

  it('stops when aborted and leaves nothing', async () => {
    const controller = new AbortController();
    // Abort the moment the run has started (its log line), before the first chunk moves.
    const log = pino({ level: 'info' }, { write: (line: string) => (line.includes('run started') ? controller.abort('test') : undefined) });
    const err = await run(convert('aborted'), { log, signal: controller.signal }).catch((e) => e);
    expect(err.code).toBe('SLUICE_ABORTED');
    expect(leftovers().filter((f) => f.includes('aborted'))).toEqual([]);
  });
});
