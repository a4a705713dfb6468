/** sink.mode "append" to CSV/NDJSON: the header must match, the delimiter too, and no row is glued to the last one. */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { openSink } from '../../../../src/io/sinks';
import type { SinkConfig } from '../../../../src/config/types';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-append-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let k = 0;
const batch = tableFromArrays({ id: Int32Array.from([1, 2]), 'a,b': ['p', 'q'] }).batches[0];

async function append(format: SinkConfig['format'], existing: string, rows: RecordBatch = batch) {
  const target = path.join(dir, `t${k++}.${format}`);
  writeFileSync(target, existing);
  const sink = await openSink({ format, path: target, mode: 'append' });
  try {
    await sink.write(rows, { seq: 0 });
    await sink.commit();
  } catch (err) {
    await sink.abort();
    // Nothing changed, nothing left beside it.
    expect(readFileSync(target, 'utf8')).toBe(existing);
    expect(readdirSync(dir).filter((n) => n.includes(path.basename(target)))).toEqual([path.basename(target)]);
    throw err;
  }
  return readFileSync(target, 'utf8');
}

describe('CSV', () => {
  it('adds the missing final newline instead of gluing the first row to the last', async () => {
    expect(await append('csv', 'id,"a,b"\n0,o')).toBe('id,"a,b"\n0,o\n1,p\n2,q\n');
  });

  it('appends under a matching header (quoted names, a BOM, CRLF lines)', async () => {
    expect(await append('csv', '\uFEFFid,"a,b"\r\n0,o\r\n')).toBe('\uFEFFid,"a,b"\r\n0,o\r\n1,p\n2,q\n');
  });

  it('writes the header into an empty file', async () => {
    expect(await append('csv', '')).toBe('id,"a,b"\n1,p\n2,q\n');
  });

  it.each([
    ['other names', 'id,name\n0,o\n', '["id","name"]'],
    ['the same names in another order', '"a,b",id\no,0\n', '["a,b","id"]'],
    ['a column fewer', 'id\n0\n', '["id"]'],
  ])('refuses a header with %s, naming the file and both headers', async (_what, existing, shown) => {
    const target = path.join(dir, `t${k}.csv`);
    await expect(append('csv', existing)).rejects.toThrow(`cannot append to ${target}: its header is ${shown} but the rows to add have columns ["id","a,b"]`);
  });

  it('refuses a file with another delimiter', async () => {
    const target = path.join(dir, `t${k}.csv`);
    await expect(append('csv', 'id;name\n0;o\n')).rejects.toThrow(`cannot append to ${target}: it is delimited by ";"`);
  });

  it.each([
    ['text into an int64 column', 'id,"a,b"\n0,o\n', { id: ['7', 'x7'], 'a,b': ['p', 'q'] }, /row 2, column "id" .*value "x7" would not read back as int64, the type the column has in /],
    ['a number into a date column', 'id,"a,b"\n0,2026-11-24\n', { id: Int32Array.from([1, 2]), 'a,b': ['2026-11-25', '7'] }, /row 2, column "a,b" .*value "7" would not read back as date/],
  ])('refuses values that would read back as another type: %s', async (_what, existing, columns, message) => {
    await expect(append('csv', existing, tableFromArrays(columns as Record<string, Int32Array | string[]>).batches[0] as RecordBatch)).rejects.toThrow(message);
  });

  it('appends values of the column types the file has, and anything to a text column', async () => {
    const rows = tableFromArrays({ id: Int32Array.from([7, 8]), 'a,b': ['12', 'x'] }).batches[0];
    expect(await append('csv', 'id,"a,b"\n0,o\n', rows)).toBe('id,"a,b"\n0,o\n7,12\n8,x\n');
  });

  it('reads a header longer than the first read (1 MiB) whole', async () => {
    const wide = `${'w'.repeat(1_500_000)}`;
    await expect(append('csv', `id,${wide}\n0,1\n`)).rejects.toThrow(`its header is ["id","${wide}"]`);
  });
});

describe('NDJSON', () => {
  it('adds the missing final newline', async () => {
    expect(await append('ndjson', '{"id":0,"a,b":"o"}')).toBe('{"id":0,"a,b":"o"}\n{"id":1,"a,b":"p"}\n{"id":2,"a,b":"q"}\n');
  });

  it('takes an empty file', async () => {
    expect(await append('ndjson', '')).toBe('{"id":1,"a,b":"p"}\n{"id":2,"a,b":"q"}\n');
  });

  it.each([
    ['other keys', '{"id":0,"name":"o"}\n', 'its first object has keys ["id","name"] but the rows to add have columns ["id","a,b"]'],
    ['the same keys in another order', '{"a,b":"o","id":0}\n', 'its first object has keys ["a,b","id"]'],
    ['a first line that is no object', 'id,a\n0,o\n', 'its first line is not a JSON object'],
  ])('refuses a file with %s, naming the file', async (_what, existing, message) => {
    const target = path.join(dir, `t${k}.ndjson`);
    await expect(append('ndjson', existing)).rejects.toThrow(`cannot append to ${target}: ${message}`);
  });
});
