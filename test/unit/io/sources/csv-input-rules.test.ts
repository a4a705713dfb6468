/**
 * CSV input rules, on both row scanners (SIMD and the JavaScript reference), the batch path
 * and the direct CSV → Parquet path, with DuckDB as the independent reader: blank lines are
 * skipped (a one-column file's are nulls), rows longer than `maxRowBytes` and quotes inside
 * unquoted fields are errors naming file, line and column, header names are usable as they are.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../../../src/config';
import type { PipelineConfig } from '../../../../src/config/types';
import { RowChunker } from '../../../../src/io/sources/csv/chunker';
import { openSource, type SourceOptions } from '../../../../src/io/sources';
import { buildPlan } from '../../../../src/plan/build';
import { runPlan } from '../../../../src/runtime/run';
import { SourceError } from '../../../../src/errors';
import { duckRows } from '../../../helpers/duckdb';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-csvrules-'));
let n = 0;
function file(content: string | Buffer, ext = '.csv'): string {
  const p = path.join(dir, `f${n++}${ext}`);
  writeFileSync(p, content);
  return p;
}

/** Every chunk of `csv` (rows after a header line), pushed `step` bytes at a time. */
function chunks(csv: string | Buffer, o: { simd: boolean; fields: number; step?: number; maxRowBytes?: number; rowsPerChunk?: number; columns?: string[] }) {
  const bytes = Buffer.from(csv);
  const chunker = new RowChunker({ file: 'in.csv', rowsPerChunk: o.rowsPerChunk ?? 100, fields: o.fields, delimiter: 44, quote: 34, firstLine: 2, prefix: Buffer.from('h\n'), simd: o.simd, maxRowBytes: o.maxRowBytes, columns: o.columns });
  const out: { text: string; rows: number; skipped?: number[] }[] = [];
  const step = o.step ?? bytes.length;
  for (let at = 0; at < bytes.length; at += step) {
    for (const c of chunker.push(bytes.subarray(at, at + step))) out.push({ text: c.bytes.toString(), rows: c.rows, skipped: c.skippedLines });
  }
  const last = chunker.end();
  if (last) out.push({ text: last.bytes.toString(), rows: last.rows, skipped: last.skippedLines });
  return out;
}

async function readRows(p: string, opts: Partial<SourceOptions> = {}): Promise<Record<string, unknown>[]> {
  const source = await openSource({ format: 'csv', path: p, batchRows: 2, ...opts }, { readSize: 5 });
  const rows: Record<string, unknown>[] = [];
  for await (const { batch } of source.batches()) for (const r of batch.toArray()) rows.push(r.toJSON() as Record<string, unknown>);
  return rows;
}

/** Values as text, for comparing with DuckDB's JSON rows. */
const asText = (rows: Record<string, unknown>[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])));

async function convertDirect(input: string, source: Partial<PipelineConfig['source']> = {}): Promise<string> {
  const out = path.join(dir, `out${n++}.parquet`);
  const resolved = checkConfig({ name: 'direct', source: { format: 'csv', path: input, ...source }, stages: [], sink: { format: 'parquet', path: out } } as PipelineConfig, '', dir);
  const plan = buildPlan(resolved.config, resolved);
  expect(plan.direct).toBeDefined();
  await runPlan(plan, { log: pino({ level: 'silent' }) });
  return out;
}

describe.each([true, false])('row scanner (simd %s)', (simd) => {
  it.each([1, 3, 1000])('skips blank lines between rows of a multi-column file (pushed %i bytes at a time)', (step) => {
    const out = chunks('1,2\n\n\r\n3,"x\n\ny"\n\n4,5', { simd, fields: 2, step });
    expect(out).toEqual([{ text: '1,2\n3,"x\n\ny"\n4,5', rows: 3, skipped: [3, 4, 8] }]);
  });

  it('counts a one-column file’s blank lines as rows (null values)', () => {
    expect(chunks('1\n\n3\r\n\r\n', { simd, fields: 1, step: 2 })).toEqual([{ text: '1\n\n3\r\n\r\n', rows: 4, skipped: undefined }]);
  });

  it.each([1, 7])('a quote inside an unquoted field is an error naming line, field and column (step %i)', (step) => {
    expect(() => chunks('1,2,3\n"a",b"c,d\n', { simd, fields: 3, step, columns: ['x', 'y', 'z'] })).toThrow(
      'in.csv, line 3, column "y": a quote inside an unquoted field (field 2 of 3)',
    );
  });

  it('accepts quotes that open fields and doubled quotes', () => {
    expect(chunks('"a","b""c",""\n"""",x,"y"\n', { simd, fields: 3, step: 5 })[0].rows).toBe(2);
  });

  it.each([1, 4, 64])('a row longer than maxRowBytes is an error with its line, found before the row ends (step %i)', (step) => {
    const csv = '1,2\n' + '3,' + 'x'.repeat(200) + '\n5,6\n';
    expect(chunks(csv, { simd, fields: 2, step, maxRowBytes: 202 })[0].rows).toBe(3); // exactly at the limit
    expect(() => chunks(csv, { simd, fields: 2, step, maxRowBytes: 201 })).toThrow(/in\.csv, line 3: row longer than 201 bytes \(source\.maxRowBytes\)/);
    // No LF ever comes: the error comes from the bytes read, not at the end of the row.
    const chunker = new RowChunker({ file: 'in.csv', rowsPerChunk: 10, fields: 2, delimiter: 44, quote: 34, firstLine: 2, simd, maxRowBytes: 100 });
    expect(() => [...chunker.push(Buffer.from('1,"' + 'y'.repeat(150)))]).toThrow(/line 2: row longer than 100 bytes.*a quote opened on line 2 is still open/);
  });
});

describe('CSV source and DuckDB agree', () => {
  const multi = 'a,b\n1,x\n\n\n2,"y\n\nz"\n\n3,\n';
  const single = 'a\n1\n\n3\n\n4\n'; // DuckDB cannot sniff mixed line ends

  it.each([
    ['blank lines between rows', multi],
    ['a one-column file with blank lines', single],
  ])('%s: the batch path reads what DuckDB reads', async (_, csv) => {
    const p = file(csv);
    const duck = await duckRows(`SELECT * FROM read_csv('${p}', header = true, all_varchar = true)`);
    expect(duck.length).toBe(csv === multi ? 3 : 5);
    expect(asText(await readRows(p))).toEqual(duck);
  });

  it.each([
    ['blank lines between rows', multi],
    ['a one-column file with blank lines', single],
  ])('%s: the direct CSV → Parquet path writes what DuckDB reads from the CSV', async (_, csv) => {
    const p = file(csv);
    const out = await convertDirect(p);
    const fromCsv = await duckRows(`SELECT * FROM read_csv('${p}', header = true, all_varchar = true)`);
    const fromParquet = await duckRows(`SELECT * FROM '${out}'`);
    expect(asText(fromParquet)).toEqual(fromCsv);
  });

  it('a bad value after blank lines is named by its physical line, on both paths', async () => {
    const p = file('n\n1\n\n\n2\n\nx\n'.replace(/^n/, 'n,m').replace(/(\d|x)\n/g, '$1,0\n'));
    await expect(readRows(p, { inferRows: 2 })).rejects.toThrow(/line 7, column "n": value "x" is not a valid int64/);
    await expect(convertDirect(p, { inferRows: 2 })).rejects.toThrow(/line 7, column "n": value "x" is not a valid int64/);
  });
});

it('a column named "" is read like any other (it used to be refused: Arrow hand-offs now keep the name)', async () => {
  expect(await readRows(file('a,"",c\n1,2,3\n'))).toEqual([{ a: 1n, '': 2n, c: 3n }]);
});

describe('text after the closing quote of a field is refused with file, line and column (polars named neither)', () => {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => `${i},"v${i}"`).join('\n');
  const message = (line: number, column: string) => new RegExp(`, line ${line}, column "${column}": text after the closing quote of a quoted field`);
  it('in the rows types are inferred from', async () => {
    await expect(readRows(file('a,b\n"ab"c,1\n"x",2\n'))).rejects.toThrow(message(2, 'a'));
  });
  it('in a later chunk, after a quoted field with a line break and after blank lines', async () => {
    const p = file(`a,b\n${rows(5)}\n7,"two\nlines"\n\n\n8,"x"y\n9,"z"\n`);
    await expect(readRows(p, { inferRows: 2 })).rejects.toThrow(message(11, 'b'));
  });
  it('through the direct CSV → Parquet path', async () => {
    await expect(convertDirect(file(`a,b\n${rows(5)}\n8,"x"y\n`), { inferRows: 2 })).rejects.toThrow(message(7, 'b'));
  });
  it('while "" inside quotes and a quote closing before a delimiter or line end stay fine', async () => {
    expect(await readRows(file('a,b\n1,"he said ""hi"""\n"2",ok\r\n'))).toEqual([
      { a: 1n, b: 'he said "hi"' },
      { a: 2n, b: 'ok' },
    ]);
  });
});

describe('CSV errors name file, line and column', () => {
  it.each([
    ['an empty header line', '\n1,2\n', /line 1: the header line is empty/],
    ['a duplicate name', 'a,b,a\n1,2,3\n', /line 1: duplicate column name "a" in the header \(columns 1 and 3\)/],
    ['invalid UTF-8 in the header', Buffer.concat([Buffer.from('id,na'), Buffer.from([0xff]), Buffer.from('me\n1,2\n')]), /line 1: invalid UTF-8 at byte 6 of the line \(column 2 of the header\)/],
    ['invalid UTF-8 in a row', Buffer.concat([Buffer.from('a,b\n1,2\n\n3,x'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]), /line 4: invalid UTF-8 at byte 4 of the line/],
    ['a quote inside an unquoted header field', 'a,b"c\n1,2\n', /line 1: a quote inside an unquoted field \(field 2 of the first row\)/],
    ['a quote inside an unquoted field', 'a,b,c\n1,2,3\na,b"c,d\n', /line 3, column "b": a quote inside an unquoted field/],
    ['an unterminated quote at the end', 'a,b\n1,2\n3,"4\n5,6\n', /line 3: unterminated quoted field/],
    ['a ragged row', 'a,b\r\n1,2\r\n3,4,5\r\n', /line 3: expected 2 fields, found 3 \(ragged row\)/],
  ])('%s', async (_, content, message) => {
    const p = file(content);
    await expect(readRows(p)).rejects.toThrow(message);
    await expect(readRows(p)).rejects.toThrow(p);
  });

  it('a truncated .csv.gz names the line where its text ends', async () => {
    const gz = gzipSync('a,b\n' + Array.from({ length: 5_000 }, (_, i) => `${i},${i * 7}`).join('\n') + '\n');
    const p = file(gz.subarray(0, gz.length >> 1), '.csv.gz');
    const err = await readRows(p, { batchRows: 100_000 }).catch((e: Error) => e);
    expect(String(err)).toMatch(/f\d+\.csv\.gz, line \d+: cannot decompress \(a truncated or corrupt \.gz file\?\)/);
    expect((err as unknown as SourceError).line).toBeGreaterThan(100);
  });

  it('a first row longer than maxRowBytes is refused without reading the rest of it', async () => {
    const p = file('a'.repeat(5000) + ',b\n1,2\n');
    await expect(readRows(p, { maxRowBytes: 1000 })).rejects.toThrow(/line 1: first row longer than 1000 bytes \(source\.maxRowBytes\)/);
    expect(await readRows(p, { maxRowBytes: 5002 })).toHaveLength(1);
  });
});

describe('wide files', () => {
  it('infers each of 3 000 columns’ own type (read in one call, not a lookup per name)', async () => {
    const names = Array.from({ length: 3000 }, (_, i) => `c${i}`);
    const row = (r: number) => names.map((_, i) => (i % 3 === 0 ? String(r * i) : i % 3 === 1 ? `t${r}` : `2026-01-0${1 + r}`)).join(',');
    const p = file([names.join(','), row(1), row(2)].join('\n') + '\n');
    const source = await openSource({ format: 'csv', path: p, batchRows: 10 });
    for await (const { batch } of source.batches()) {
      expect(batch.schema.fields.map((f) => String(f.type)).slice(0, 6)).toEqual(['Int64', 'Utf8View', 'Date32<DAY>', 'Int64', 'Utf8View', 'Date32<DAY>']);
      expect(batch.schema.fields[2999].name).toBe('c2999');
      expect(String(batch.schema.fields[2999].type)).toBe('Date32<DAY>');
      expect(String(batch.schema.fields[2997].type)).toBe('Int64');
      expect(Number(batch.getChild('c2997')!.get(1))).toBe(2 * 2997);
    }
  });
});
