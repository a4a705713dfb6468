/**
 * NDJSON: one schema per source, fixed by the first batch (inferred from all its lines), a
 * later field it lacks is an error at any depth, and every error names the physical line.
 */
import { mkdtempSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { openSource } from '../../../../src/io/sources';
import { readNdjson } from '../../../../src/io/sources/ndjson';
import { duckRows } from '../../../helpers/duckdb';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-ndjson-'));
let n = 0;
function file(lines: string[]): string {
  const p = path.join(dir, `f${n++}.ndjson`);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

async function read(p: string, batchRows: number, extra: { maxRowBytes?: number } = {}) {
  const source = await openSource({ format: 'ndjson', path: p, batchRows, ...extra }, { readSize: 7 });
  const rows: Record<string, unknown>[] = [];
  for await (const { batch } of source.batches()) for (const r of batch.toArray()) rows.push(JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === 'bigint' ? Number(v) : v))));
  return rows;
}

const records = (count: number) => Array.from({ length: count }, (_, i) => JSON.stringify({ x: i, a: { b: i } }));

it.each([50, 1000])('a line that is not JSON is named by its physical line (batchRows %i)', async (batchRows) => {
  const lines = records(150);
  lines[100] = '{"x": 1, "a": ';
  await expect(read(file(lines), batchRows)).rejects.toThrow(/f\d+\.ndjson, line 101: not valid JSON/);
});

it('a nested field that appears after the first batch is an error naming its path and line', async () => {
  const lines = records(150);
  lines[120] = JSON.stringify({ x: 1, a: { b: 1, c: { d: 2 } } });
  await expect(read(file(lines), 50)).rejects.toThrow(/line 121: field "a\.c" is not in the schema fixed by the first batch \(lines 1–50\)/);
  lines[120] = JSON.stringify({ x: 1, a: { b: 1 }, late: [{ p: 1 }] });
  await expect(read(file(lines), 50)).rejects.toThrow(/line 121: field "late" is not in the schema/);
});

it('a nested field inside a list of objects is found too', async () => {
  const lines = Array.from({ length: 10 }, () => JSON.stringify({ items: [{ sku: 'a' }] }));
  lines[7] = JSON.stringify({ items: [{ sku: 'b' }, { sku: 'c', qty: 2 }] });
  await expect(read(file(lines), 5)).rejects.toThrow(/line 8: field "items\[\]\.qty" is not in the schema/);
});

it('fields that appear late in the first batch are kept (polars alone infers from 100 lines), as DuckDB reads them', async () => {
  const lines = records(300);
  lines[250] = JSON.stringify({ x: 250, a: { b: 250, c: 'late' }, y: 5 });
  const p = file(lines);
  const rows = await read(p, 1000);
  expect(rows[250]).toEqual({ x: 250, a: { b: 250, c: 'late' }, y: 5 });
  expect(rows[0]).toEqual({ x: 0, a: { b: 0, c: null }, y: null });
  const duck = await duckRows(`SELECT x, a.c AS c, y FROM read_json('${p}', format = 'newline_delimited', sample_size = -1) WHERE y IS NOT NULL`);
  expect(duck).toEqual([{ x: '250', c: 'late', y: '5' }]);
});

it('a value that does not fit the fixed type names its line and column', async () => {
  const lines = records(150);
  lines[130] = JSON.stringify({ x: 'oops', a: { b: 1 } });
  await expect(read(file(lines), 50)).rejects.toThrow(/line 131, column "x": value "oops" is a string, not an integer; the column.s type int64 was fixed by the first batch \(lines 1–50\)/);
});

it('a line longer than maxRowBytes is an error with its line', async () => {
  const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ s: i === 3 ? 'y'.repeat(500) : 'short' }));
  await expect(read(file(lines), 2, { maxRowBytes: 300 })).rejects.toThrow(/line 4: line longer than 300 bytes \(source\.maxRowBytes\)/);
  expect(await read(file(lines), 2, { maxRowBytes: 600 })).toHaveLength(5);
});

it('a truncated .ndjson.gz names the line where its text ends', async () => {
  const gz = gzipSync(records(3000).join('\n') + '\n');
  const p = path.join(dir, 'cut.ndjson.gz');
  writeFileSync(p, gz.subarray(0, gz.length >> 1));
  await expect(read(p, 100_000)).rejects.toThrow(/cut\.ndjson\.gz, line \d+: cannot decompress \(a truncated or corrupt \.gz file\?\)/);
});

it('a field named "" is read like any other, nested too (Arrow hand-offs keep the name)', async () => {
  const lines = [JSON.stringify({ '': 1, x: 0, a: { '': 'n' } }), JSON.stringify({ '': 2, x: 1, a: { '': 'm' } })];
  expect(await read(file(lines), 100)).toEqual([
    { '': 1, x: 0, a: { '': 'n' } },
    { '': 2, x: 1, a: { '': 'm' } },
  ]);
});

describe('a read stopped early', () => {
  it('closes its file at once (not on garbage collection)', async () => {
    const file = path.join(dir, 'early.ndjson');
    writeFileSync(file, Array.from({ length: 10 }, (_, i) => JSON.stringify({ i })).join('\n') + '\n');
    // descriptors of this process open on the file (others may come and go meanwhile)
    const openOnFile = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false;
        }
      }).length;
    const batches = readNdjson(file, { batchRows: 2 });
    const first = await batches.next();
    first.value?.lease?.release();
    expect(openOnFile()).toBe(1);
    await batches.return(undefined);
    expect(openOnFile()).toBe(0);
  });
});
