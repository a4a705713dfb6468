/**
 * A Parquet file merged from row groups encoded one at a time carries a page index that
 * points at its own pages: checked with hyparquet, an independent decoder that reads the
 * OffsetIndex and ColumnIndex and can read pages through the offset index.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects, readColumnIndex, readOffsetIndex, type FileMetaData } from 'hyparquet';
import pl from 'nodejs-polars';
import { openSink } from '../../../../src/io/sinks';
import { footerOf } from '../../../../src/io/parquet/footer';
import { relocatePageIndex } from '../../../../src/io/parquet/page-index';
import { field, type ThriftList, type ThriftStruct } from '../../../../src/io/parquet/thrift';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-page-index-'));
const ROWS = 1000;
const GROUP = 300;
const rowsOf = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, name: `name-${String(from + i).padStart(4, '0')}` }));

let file: string;
let bytes: Buffer;
let meta: FileMetaData;

beforeAll(async () => {
  file = path.join(dir, 'merged.parquet');
  // snappy: hyparquet decodes it without add-ons (zstd needs hyparquet-compressors)
  const sink = await openSink({ format: 'parquet', path: file, rowGroupSize: GROUP, compression: 'snappy' });
  for (let seq = 0, from = 0; from < ROWS; seq++, from += 250) {
    const rows = rowsOf(from, Math.min(250, ROWS - from));
    await sink.write(tableFromArrays({ id: Int32Array.from(rows, (r) => r.id), name: rows.map((r) => r.name) }).batches[0], { seq });
  }
  await sink.commit();
  bytes = readFileSync(file);
  meta = parquetMetadata(arrayBuffer());
});

const arrayBuffer = () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
const view = (start: number, end: number) => ({ view: new DataView(bytes.buffer, bytes.byteOffset + start, end - start), offset: 0 });

describe('merged Parquet page index', () => {
  it('has several row groups, each chunk with a page index', () => {
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([300, 300, 300, 100]);
    for (const g of meta.row_groups) for (const c of g.columns) expect(c.offset_index_offset).toBeDefined();
  });

  it('every page location lies inside its own column chunk, pages back to back to its end', () => {
    for (const group of meta.row_groups) {
      for (const chunk of group.columns) {
        const m = chunk.meta_data!;
        const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
        const end = start + Number(m.total_compressed_size);
        const oi = Number(chunk.offset_index_offset);
        const { page_locations: pages } = readOffsetIndex(view(oi, oi + chunk.offset_index_length!));
        expect(pages.length).toBeGreaterThan(0);
        // polars puts its dictionary page at data_page_offset; the index lists data pages only
        expect(Number(pages.at(-1)!.offset) + pages.at(-1)!.compressed_page_size).toBe(end);
        for (const [i, p] of pages.entries()) {
          expect(Number(p.offset)).toBeGreaterThanOrEqual(start);
          expect(Number(p.offset) + p.compressed_page_size).toBeLessThanOrEqual(end);
          if (i > 0) expect(Number(p.offset)).toBe(Number(pages[i - 1].offset) + pages[i - 1].compressed_page_size);
        }
      }
    }
  });

  it("ColumnIndex min/max are each group's own data", () => {
    const idColumn = meta.schema.find((s) => s.name === 'id')!;
    for (const [g, group] of meta.row_groups.entries()) {
      const chunk = group.columns[0];
      const ci = Number(chunk.column_index_offset);
      const index = readColumnIndex(view(ci, ci + chunk.column_index_length!), idColumn);
      expect(Number(index.min_values[0])).toBe(g * GROUP);
      expect(Number(index.max_values.at(-1))).toBe(Math.min((g + 1) * GROUP, ROWS) - 1);
    }
  });

  it('reading rows through the offset index gives the right values in every group', async () => {
    const ab = arrayBuffer();
    for (const [rowStart, rowEnd] of [[0, 10], [305, 320], [650, 660], [990, 1000]]) {
      const rows = await parquetReadObjects({ file: ab, metadata: meta, rowStart, rowEnd, useOffsetIndex: true });
      expect(rows).toEqual(rowsOf(rowStart, rowEnd - rowStart));
    }
  });

  it('DuckDB reads the whole file equal', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const rows = (await c.runAndReadAll(`SELECT id, name FROM read_parquet('${file}') ORDER BY id`)).getRowObjects();
      expect(rows).toEqual(rowsOf(0, ROWS));
    } finally {
      c.closeSync();
    }
  });
});

describe('a part whose tail is not exactly its page index', () => {
  it('loses the page index (optional) rather than keep pointers that could be wrong', () => {
    const part = pl.DataFrame({ a: [1, 2, 3] }).writeParquet({ compression: 'snappy' });
    const footerStart = part.length - 8 - part.readUInt32LE(part.length - 8);
    const chunks = () => {
      const groups = (field(footerOf(part, 'part'), 4)!.value as ThriftList).items as ThriftStruct[];
      return groups.flatMap((g) => (field(g, 1)!.value as ThriftList).items as ThriftStruct[]);
    };
    const ids = (c: ThriftStruct[]) => c.flatMap((chunk) => chunk.fields.map((f) => f.id));
    const exact = chunks();
    expect(relocatePageIndex(part, footerStart, exact, 100n).index.length).toBeGreaterThan(0);
    expect(ids(exact)).toEqual(expect.arrayContaining([4, 5, 6, 7]));
    // one byte between the last index struct and the footer: something else lives there
    const odd = chunks();
    const { keepUntil, index } = relocatePageIndex(part, footerStart + 1, odd, 100n);
    expect([keepUntil, index.length]).toEqual([footerStart + 1, 0]);
    expect(ids(odd).filter((id) => id >= 4 && id <= 7)).toEqual([]);
  });
});
