/**
 * CSV rows over `maxRowBytes` with `source.onError` other than `fail` (readCsv's onBadRow): each
 * is taken out alone (its first line, a reason naming the limit, its first 1024 bytes as raw,
 * no values) and the read goes on at the next row; the other rows keep their physical line
 * numbers (a bad value after a cut row, and after a blank line, is named at its own line). An
 * over-long row ending at a newline, running across reads, holding a quoted newline, and the
 * last row of the file without a newline; reads of a few bytes, of a few rows and of the whole
 * file. Without onBadRow the first one fails the read naming its line, as before.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BadRow } from '../../../../src/csv/salvage';
import { readCsv } from '../../../../src/io/sources/csv';
import { workspace, type Workspace } from '../../../helpers/workspace';

const ROWS = 60;
const MAX = 200;
const long = (i: number, n: number) => `${i},n${i},${'w'.repeat(n)},d`;
/** Data row i is on physical line i + 2, until the quoted newline of row 33 (one line more after it). */
const SPECIAL: Record<number, string> = {
  5: long(5, 300),
  20: long(20, 5000),
  33: `33,n33,"${'q'.repeat(150)}\n${'q'.repeat(150)}",d`,
  41: '41,n41,abc,d',
  59: long(59, 2000),
};
const lineOf = (i: number) => i + 2 + (i > 33 ? 1 : 0);

let ws: Workspace;
let file: string;
beforeAll(() => {
  ws = workspace('sluice-csv-long-');
  file = path.join(ws.dir, 'in.csv');
  const rows = Array.from({ length: ROWS }, (_, i) => SPECIAL[i] ?? `${i},n${i},${i}.5,d`);
  // A blank line before row 10 (skipped, its line counted); the file ends without a newline.
  rows.splice(10, 0, '');
  writeFileSync(file, 'id,name,x,day\n' + rows.join('\n'));
});
afterAll(() => ws.cleanup());

async function read(readSize: number, onBadRow?: (bad: BadRow) => void): Promise<number[]> {
  const ids: number[] = [];
  const cfg = { format: 'csv', path: file, batchRows: 16, inferRows: 16, maxRowBytes: MAX, schema: { id: 'int64', name: 'utf8', x: 'float64', day: 'utf8' } } as never;
  for await (const { batch, lease } of readCsv({ file, cfg, readSize, ...(onBadRow && { onBadRow }) })) {
    for (const v of batch.getChild('id')!) ids.push(Number(v));
    lease?.release();
  }
  return ids;
}

describe.each([7, 100, 1 << 20])('reads of %i bytes', (readSize) => {
  it('takes out each over-long row alone, with its line and first 1024 bytes; the rest keep their lines', async () => {
    const bad: BadRow[] = [];
    const ids = await read(readSize, (b) => bad.push(b));
    const gone = [5, 20, 33, 41, 59];
    expect(ids).toEqual(Array.from({ length: ROWS }, (_, i) => i).filter((i) => !gone.includes(i)));
    // Blank line 12 shifts every row from 10 on by one line.
    const line = (i: number) => lineOf(i) + (i >= 10 ? 1 : 0);
    expect(bad.map((b) => b.line).sort((a, b) => a - b)).toEqual(gone.map(line));
    for (const b of bad) expect(b.file).toBe(file);
    const byLine = new Map(bad.map((b) => [b.line, b]));
    for (const i of [5, 20, 33, 59]) {
      const b = byLine.get(line(i))!;
      expect(b.reason).toBe(`row longer than ${MAX} bytes (source.maxRowBytes); raw holds its first 1024 bytes only`);
      expect(b.raw).toBe(SPECIAL[i].slice(0, 1024));
      expect(b.values).toEqual({});
    }
    // A bad value after the cut rows is still named at its own physical line and column.
    expect(byLine.get(line(41))).toMatchObject({ column: 'x', raw: '41,n41,abc,d' });
  });
});

it('without onBadRow the first over-long row fails the read naming its line', async () => {
  await expect(read(100)).rejects.toThrow(/in\.csv, line 7: row longer than 200 bytes \(source\.maxRowBytes\)/);
});
