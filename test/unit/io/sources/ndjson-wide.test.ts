/**
 * NDJSON batches after the first are held to its schema column by column: the native polars
 * calls that list or look up columns must not grow with the width (each lists every column;
 * one per column was quadratic). Counted on polars' native class, no timing involved.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSource } from '../../../../src/io/sources';
import { countNative } from '../../../helpers/polars-calls';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-ndjson-wide-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('the native column calls of reading 3 batches do not grow with the width', async () => {
  const counts: number[] = [];
  // 4× apart: a call per column shows as counts that differ at any widths, and every column of
  // every batch costs polars expressions and their garbage (20, 200, 800 cost 12 CPU-s, these 4).
  for (const width of [10, 40, 160]) {
    const file = path.join(dir, `w${width}.ndjson`);
    const record = (r: number) => JSON.stringify(Object.fromEntries(Array.from({ length: width }, (_, i) => [`k${i}`, r * width + i])));
    writeFileSync(file, [0, 1, 2].map(record).join('\n') + '\n');
    let rows = 0;
    counts.push(
      await countNative(async () => {
        const source = await openSource({ format: 'ndjson', path: file, batchRows: 1 });
        for await (const item of source.batches()) {
          rows += item.rows;
          item.release();
        }
      }),
    );
    expect(rows).toBe(3);
  }
  expect(counts[1]).toBe(counts[0]);
  expect(counts[2]).toBe(counts[0]);
});
