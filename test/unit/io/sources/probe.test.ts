/** The columns a source will produce, read from a file's header, footer or first lines (io/sources/probe.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { probeColumns } from '../../../../src/io/sources/probe';
import type { SourceOptions } from '../../../../src/io/sources';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => path.join(dir, f);
const opts = (format: SourceOptions['format'], file: string, over: Partial<SourceOptions> = {}): SourceOptions => ({ format, path: file, batchRows: 2, ...over });

describe('probeColumns', () => {
  it('reads CSV columns (header, or column_N without one), whatever the projection', async () => {
    writeFileSync(at('a.csv'), 'b,a,c\n1,2,3\n4,5,6\n7,8,9\n');
    expect(await probeColumns(at('a.csv'), opts('csv', at('a.csv'), { columns: ['zzz'] }))).toEqual({ file: at('a.csv'), names: ['b', 'a', 'c'] });
    expect((await probeColumns(at('a.csv'), opts('csv', at('a.csv'), { header: false })))?.names).toEqual(['column_1', 'column_2', 'column_3']);
  });

  // `run`'s checks read the header alone; `validate`'s read the first chunk too. Both must name
  // the same columns (quoted names, a BOM, no header), and only the chunk sees a bad row.
  it.each([
    ['quoted names and a BOM', '\ufeff"x,1",y,"z ""q"""\n1,2,3\n', undefined],
    ['no header', '1,2,3\n4,5,6\n', { header: false }],
    ['a delimiter of its own', 'p;q\n1;2\n', { delimiter: ';' }],
  ] as const)('names the same CSV columns from the header alone as from the first chunk: %s', async (_, text, over) => {
    writeFileSync(at('h.csv'), text);
    const full = await probeColumns(at('h.csv'), opts('csv', at('h.csv'), over));
    expect(full?.names.length).toBeGreaterThan(1);
    expect(await probeColumns(at('h.csv'), opts('csv', at('h.csv'), over), { namesOnly: true })).toEqual(full);
  });

  it('reads no row for the names alone: a bad row is left to the run', async () => {
    writeFileSync(at('bad.csv'), 'a,b\n1,2\n"unclosed,3\n');
    await expect(probeColumns(at('bad.csv'), opts('csv', at('bad.csv')))).rejects.toThrow(/line/);
    expect((await probeColumns(at('bad.csv'), opts('csv', at('bad.csv')), { namesOnly: true }))?.names).toEqual(['a', 'b']);
  });

  it('reads Parquet columns from the footer', async () => {
    pl.DataFrame({ day: ['2026-11-01'], id: [1] }).writeParquet(at('a.parquet'));
    expect((await probeColumns(at('a.parquet'), opts('parquet', at('a.parquet'))))?.names).toEqual(['day', 'id']);
  });

  it.each(['file', 'stream'] as const)('reads Arrow IPC %s columns from the schema', async (format) => {
    writeFileSync(at(`a-${format}.arrow`), tableToIPC(tableFromArrays({ x: Int32Array.from([1]), y: ['a'] }), format));
    expect((await probeColumns(at(`a-${format}.arrow`), opts('arrow', at(`a-${format}.arrow`))))?.names).toEqual(['x', 'y']);
  });

  it('reads NDJSON columns from the first batch, as the reader fixes them', async () => {
    writeFileSync(at('a.ndjson'), '{"k":1,"v":"a"}\n{"k":2,"v":"b"}\n{"k":3,"v":"c","late":true}\n');
    expect((await probeColumns(at('a.ndjson'), opts('ndjson', at('a.ndjson'))))?.names).toEqual(['k', 'v']);
  });

  it('gives nothing for an empty file', async () => {
    writeFileSync(at('empty.csv'), '');
    expect(await probeColumns(at('empty.csv'), opts('csv', at('empty.csv')))).toBeUndefined();
    expect(await probeColumns(at('empty.csv'), opts('csv', at('empty.csv')), { namesOnly: true })).toBeUndefined();
  });
});
