/** Parquet by row group, Arrow IPC file/stream, NDJSON, globs in a stable order, bounded read-ahead. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordBatchStreamWriter, tableFromArrays, tableToIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { openSource, type SourceOptions } from '../../../../src/io/sources';
import { rowGroupGauge } from '../../../../src/io/sources/parquet';
import { readRowGroups } from '../../../../src/io/parquet/footer';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-src-'));

async function collect(opts: SourceOptions, readSize?: number) {
  const source = await openSource(opts, { readSize });
  const out: { rows: number; file: string; ids: number[] }[] = [];
  for await (const { batch, sourceFile: file } of source.batches()) out.push({ rows: batch.numRows, file: file!, ids: [...(batch.getChild('id') ?? [])].map(Number) });
  return { out, stats: source.stats(), files: source.files };
}

describe('Parquet source', () => {
  const file = path.join(dir, 'groups.parquet');
  beforeAll(async () => {
    const n = 10_000;
    const arrow = path.join(dir, 'groups.arrow');
    pl.DataFrame({ id: Array.from({ length: n }, (_, i) => i), s: Array.from({ length: n }, (_, i) => `v${i}`) }).writeIPC(arrow);
    // (DataFrame.writeParquet ignores rowGroupSize in 0.24.1; the streaming sink honours it)
    await pl.scanIPC(arrow).sinkParquet(file, { rowGroupSize: 3000, compression: 'zstd' }).collect();
  });

  it('reads the row-group layout from the footer', async () => {
    const groups = await readRowGroups(file);
    expect(groups.reduce((n, g) => n + g.rows, 0)).toBe(10_000);
    expect(groups.length).toBeGreaterThan(1);
    expect(groups[1].offset).toBe(groups[0].rows);
  });

  it('streams one row group at a time, split into batchRows batches, in order', async () => {
    rowGroupGauge.peak = 0;
    const { out } = await collect({ format: 'parquet', path: file, batchRows: 1000 });
    expect(out.every((b) => b.rows <= 1000)).toBe(true);
    expect(out.flatMap((b) => b.ids)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(rowGroupGauge.peak).toBe(1);
  });

  it('projects columns', async () => {
    const source = await openSource({ format: 'parquet', path: file, batchRows: 5000, columns: ['s'] });
    const first = await source.batches().next();
    expect(first.value!.batch.schema.fields.map((f: { name: string }) => f.name)).toEqual(['s']);
    await source.close();
  });
});

describe('Arrow IPC and NDJSON sources', () => {
  const table = tableFromArrays({ id: Int32Array.from({ length: 25 }, (_, i) => i), x: Float64Array.from({ length: 25 }, (_, i) => i / 2) });

  it.each(['file', 'stream'] as const)('reads the IPC %s format, splitting big batches', async (kind) => {
    const p = path.join(dir, `t.${kind}.arrow`);
    writeFileSync(p, kind === 'file' ? tableToIPC(table, 'file') : RecordBatchStreamWriter.writeAll(table).toUint8Array(true));
    const { out } = await collect({ format: 'arrow', path: p, batchRows: 10 });
    expect(out.map((b) => b.rows)).toEqual([10, 10, 5]);
    expect(out.flatMap((b) => b.ids)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('reads NDJSON in batches with a fixed schema and exact 64-bit ints', async () => {
    const p = path.join(dir, 'rows.ndjson');
    writeFileSync(p, Array.from({ length: 7 }, (_, i) => JSON.stringify({ id: i, name: `n${i}` })).join('\n') + '\n{"id": 9007199254740993, "name": null}\n');
    const source = await openSource({ format: 'ndjson', path: p, batchRows: 3 }, { readSize: 5 });
    const batches = [];
    for await (const { batch } of source.batches()) batches.push(batch);
    expect(batches.map((b) => b.numRows)).toEqual([3, 3, 2]);
    expect(batches[2].getChild('id')!.get(1)).toBe(9007199254740993n);
    expect(batches[2].getChild('name')!.get(1)).toBeNull();
  });
});

describe('many inputs', () => {
  it('reads a glob in sorted order, each batch knowing its file', async () => {
    for (const day of ['2026-11-02', '2026-11-01', '2026-11-10']) {
      mkdirSync(path.join(dir, 'drop', day), { recursive: true });
      writeFileSync(path.join(dir, 'drop', day, 'events-a.csv'), `id,day\n${day.slice(8)},${day}\n`);
    }
    const { out, files } = await collect({ format: 'csv', path: path.join(dir, 'drop/2026-11-*/events-*.csv'), batchRows: 10 });
    expect(files.map((f) => path.relative(dir, f))).toEqual(['drop/2026-11-01/events-a.csv', 'drop/2026-11-02/events-a.csv', 'drop/2026-11-10/events-a.csv']);
    expect(out.map((b) => [b.ids[0], path.basename(path.dirname(b.file))])).toEqual([
      [1, '2026-11-01'],
      [2, '2026-11-02'],
      [10, '2026-11-10'],
    ]);
  });

  it('files with different schemas are an error naming both', async () => {
    writeFileSync(path.join(dir, 'm1.csv'), 'id\n1\n');
    writeFileSync(path.join(dir, 'm2.csv'), 'id,extra\n1,2\n');
    await expect(collect({ format: 'csv', path: [path.join(dir, 'm1.csv'), path.join(dir, 'm2.csv')], batchRows: 10 })).rejects.toThrow(/m2\.csv, line 1: columns differ from .*m1\.csv/); // every header is compared before the first batch
  });

  it('a pattern that matches nothing is an error naming it', async () => {
    await expect(openSource({ format: 'csv', path: path.join(dir, 'none-*.csv'), batchRows: 1 })).rejects.toThrow(/no input file matches ".*none-\*\.csv"/);
  });
});

describe('backpressure contract', () => {
  it('reads only about as far as it was pulled', async () => {
    const p = path.join(dir, 'big.csv');
    const lines = ['id,pad'];
    for (let i = 0; i < 200_000; i++) lines.push(`${i},${'x'.repeat(40)}`);
    writeFileSync(p, lines.join('\n') + '\n');
    const source = await openSource({ format: 'csv', path: p, batchRows: 1000, inferRows: 1000 }, { readSize: 64 * 1024 });
    const it = source.batches();
    for (let k = 0; k < 3; k++) await it.next();
    const read = source.stats().bytesRead;
    // 3 batches of ~45 KB each, plus at most one read buffer ahead: far from the 9 MB file
    expect(read).toBeLessThan(4 * 1000 * 50 + 64 * 1024);
    await source.close();
  });
});

// apache-arrow 21.2's RecordBatch.select paired names with the wrong columns for any selection
// but a prefix (the Arrow source used it): every format, a selection out of order and with gaps.
describe.each(['csv', 'parquet', 'arrow', 'ndjson'] as const)('%s source.columns', (format) => {
  const n = 1200;
  const file = path.join(dir, `projected.${format}`);
  beforeAll(() => {
    const df = pl.DataFrame({
      id: Array.from({ length: n }, (_, i) => i),
      name: Array.from({ length: n }, (_, i) => `n${i}`),
      x: Array.from({ length: n }, (_, i) => i * 0.5),
      day: Array.from({ length: n }, (_, i) => `d${i % 7}`),
    });
    if (format === 'csv') df.writeCSV(file);
    else if (format === 'parquet') df.writeParquet(file);
    else if (format === 'arrow') df.writeIPC(file);
    else df.writeJSON(file, { format: 'lines' });
  });

  it('gives exactly the named columns, in the order named, each with its own values', async () => {
    const source = await openSource({ format, path: file, batchRows: 500, columns: ['day', 'x'] });
    const rows: [unknown, unknown][] = [];
    for await (const { batch } of source.batches()) {
      expect(batch.schema.fields.map((f) => f.name)).toEqual(['day', 'x']);
      const day = [...batch.getChild('day')!];
      const x = [...batch.getChild('x')!];
      for (let i = 0; i < batch.numRows; i++) rows.push([day[i], Number(x[i])]);
    }
    expect(rows).toEqual(Array.from({ length: n }, (_, i) => [`d${i % 7}`, i * 0.5]));
  });
});
