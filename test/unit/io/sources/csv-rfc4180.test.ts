/**
 * RFC 4180 read exactly, with batches of 1 and 2 rows and reads of a few bytes, so chunk
 * edges fall inside quoted fields, inside CRLF pairs and inside multi-byte characters.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RecordBatch } from 'apache-arrow';
import { openSource, type SourceOptions } from '../../../../src/io/sources';
import { SourceError } from '../../../../src/errors';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-csv-'));
let n = 0;
function file(content: string | Buffer, ext = '.csv'): string {
  const p = path.join(dir, `f${n++}${ext}`);
  writeFileSync(p, content);
  return p;
}

async function read(p: string, opts: Partial<SourceOptions> = {}, readSize = 3): Promise<{ rows: Record<string, unknown>[]; batches: RecordBatch[] }> {
  const source = await openSource({ format: 'csv', path: p, batchRows: 2, ...opts }, { readSize });
  const batches: RecordBatch[] = [];
  for await (const { batch } of source.batches()) batches.push(batch);
  const rows = batches.flatMap((b) => b.toArray().map((r) => r.toJSON() as Record<string, unknown>));
  return { rows, batches };
}

const types = (b: RecordBatch) => b.schema.fields.map((f) => `${f.name}:${f.type}`);

describe('CSV source, RFC 4180', () => {
  it.each([1, 2])('reads quoted fields, escaped quotes and embedded CR/LF exactly (batchRows %i)', async (batchRows) => {
    const p = file('id,text,n\r\n1,"a, b",10\r\n2,"say ""hi""",20\r\n3,"line1\r\nline2\nline3",30\r\n4,,40\r\n5,"",50\r\n');
    const { rows, batches } = await read(p, { batchRows });
    expect(rows.map((r) => [Number(r.id), r.text, Number(r.n)])).toEqual([
      [1, 'a, b', 10],
      [2, 'say "hi"', 20],
      [3, 'line1\r\nline2\nline3', 30],
      [4, null, 40],
      [5, '', 50],
    ]);
    expect(batches.every((b) => b.numRows <= batchRows)).toBe(true);
    expect(new Set(batches.map((b) => types(b).join()))).toEqual(new Set([['id:Int64', 'text:Utf8View', 'n:Int64'].join()]));
  });

  it.each([1, 2, 3, 5, 7])('cuts multi-byte UTF-8 and a BOM correctly at read size %i', async (readSize) => {
    const p = file('\uFEFFname,city\nJosé,"Zürich, CH"\n李,東京\n😀,"x\n😀"\n');
    const { rows } = await read(p, { batchRows: 1 }, readSize);
    expect(rows).toEqual([
      { name: 'José', city: 'Zürich, CH' },
      { name: '李', city: '東京' },
      { name: '😀', city: 'x\n😀' },
    ]);
  });

  it('reads a file whose last row has no newline', async () => {
    const { rows } = await read(file('a,b\n1,x\n2,y'));
    expect(rows.map((r) => [Number(r.a), r.b])).toEqual([
      [1, 'x'],
      [2, 'y'],
    ]);
  });

  it('a header-only file gives zero rows with the header schema; an empty file is an error naming it', async () => {
    const header = await read(file('a,b\n'));
    expect(header.rows).toEqual([]);
    expect(header.batches).toHaveLength(1);
    expect(header.batches[0].schema.fields.map((f) => f.name)).toEqual(['a', 'b']);
    const empty = file('');
    await expect(read(empty)).rejects.toThrow(`${empty}: empty file: no header`);
  });

  it('honours delimiter, quote, header:false and nullValues', async () => {
    const p = file("1;'x;y';NA\n2;'it''s';z\n");
    const { rows } = await read(p, { delimiter: ';', quote: "'", header: false, nullValues: ['NA'] });
    expect(rows.map((r) => [Number(r.column_1), r.column_2, r.column_3])).toEqual([
      [1, 'x;y', null],
      [2, "it's", 'z'],
    ]);
  });

  it('reads .csv.gz input', async () => {
    const p = file(gzipSync(Buffer.from('a,b\n1,"q,r"\n2,s\n')), '.csv.gz');
    const { rows } = await read(p);
    expect(rows.map((r) => [Number(r.a), r.b])).toEqual([
      [1, 'q,r'],
      [2, 's'],
    ]);
  });
});

describe('CSV schema inference', () => {
  it('never loses information: leading zeros stay text, big integers stay exact', async () => {
    const p = file('zip,big,f,d,ts,flag\n08123,9007199254740993,1.5,2026-11-24,2026-11-24 10:00:00,true\n10115,-9223372036854775808,2,2026-11-25,2026-11-25 11:30:00,false\n');
    const { batches } = await read(p);
    expect(types(batches[0])).toEqual(['zip:Utf8View', 'big:Int64', 'f:Float64', 'd:Date32<DAY>', 'ts:Timestamp<MILLISECOND>', 'flag:Bool']);
    const big = batches.flatMap((b) => [...b.getChild('big')!]);
    expect(big).toEqual([9007199254740993n, -9223372036854775808n]);
    expect(batches.flatMap((b) => [...b.getChild('zip')!])).toEqual(['08123', '10115']);
  });

  it('an integer beyond int64 keeps the column as text', async () => {
    const { batches } = await read(file('x\n1\n99999999999999999999\n'));
    expect(types(batches[0])).toEqual(['x:Utf8View']);
  });

  it('the schema is fixed from the first rows: a later misfit is an error with file, line and column', async () => {
    const p = file('id,amount\n1,2.5\n2,3\n3,oops\n4,5\n');
    const err = await read(p, { inferRows: 2, batchRows: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).message).toBe(`${p}, line 4, column "amount": value "oops" is not a valid float64 (the column's type, fixed from the first rows or the config's schema)`);
  });

  it('counts physical lines inside quoted newlines when locating errors', async () => {
    const p = file('id,note\n1,"a\nb\nc"\n2,ok\nx,bad\n');
    const err = (await read(p, { inferRows: 2, batchRows: 1 }).catch((e: unknown) => e)) as SourceError;
    expect(err.line).toBe(6);
    expect(err.column).toBe('id');
  });

  it('an explicit schema overrides inference per column', async () => {
    const { batches } = await read(file('id,zip\n1,12345\n'), { schema: { id: 'int32', zip: 'utf8' } });
    expect(types(batches[0])).toEqual(['id:Int32', 'zip:Utf8View']);
  });
});

describe('CSV errors', () => {
  it('a ragged row is an error naming file and line', async () => {
    const p = file('a,b\n1,2\n3,4,5\n');
    await expect(read(p)).rejects.toThrow(`${p}, line 3: expected 2 fields, found 3 (ragged row)`);
    const short = file('a,b\n1,2\n"multi\nline"\n');
    await expect(read(short)).rejects.toThrow(`${short}, line 3: expected 2 fields, found 1 (ragged row)`);
  });

  it('an unterminated quote is an error naming where it opened', async () => {
    const p = file('a,b\n1,"never closed\n2,3\n');
    await expect(read(p)).rejects.toThrow(`${p}, line 2: unterminated quoted field (the quote opened on line 2 never closes)`);
  });

  it('invalid UTF-8 is an error with its line', async () => {
    const p = file(Buffer.concat([Buffer.from('a\nok\n'), Buffer.from([0xc3, 0x28, 0x0a])]));
    await expect(read(p)).rejects.toThrow(`${p}, line 3: invalid UTF-8`);
  });

  it('a duplicate header name is an error', async () => {
    const p = file('a,a\n1,2\n');
    await expect(read(p)).rejects.toThrow('duplicate column name "a"');
  });
});
