/**
 * NDJSON with `source.onError` other than `fail` (readNdjson's onBadRow): each kind of bad line
 * (not JSON, not an object, invalid UTF-8, a value its column's type does not hold, a field the
 * fixed schema lacks, a line over maxRowBytes) in known places, in the batch that fixes the
 * types and in later ones, is taken out alone with its line, column, reason, text and the
 * values that did parse; the good lines flow on with their own line numbers. The reader is run
 * with reads of a few bytes, of a few lines and of the whole file, so an over-long line is met
 * at a newline, across reads and at a read's end. Without onBadRow each bad line fails the read
 * naming its own line (not its batch's first line).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BadRow } from '../../../../src/csv/salvage';
import { readNdjson } from '../../../../src/io/sources/ndjson';
import { workspace, type Workspace } from '../../../helpers/workspace';

const LINES = 40;
const MAX = 100;
const good = (i: number) => Buffer.from(JSON.stringify({ id: i, name: `n${i}`, x: i + 0.5 }));
/** Line i + 1 holds record i. Each kind once in the first batch's range (lines 1–8) would change the inferred types, so most are later. */
const BAD: Record<number, { text: Buffer; column?: string; reason: RegExp; values: Record<string, unknown> }> = {
  3: { text: Buffer.from('{"id": 3, "name": '), reason: /^not valid JSON/, values: {} },
  9: { text: Buffer.from('[9, "n9", 9.5]'), reason: /^is a JSON array, not an object/, values: {} },
  12: { text: Buffer.concat([Buffer.from('{"id": 12, "name": "n'), Buffer.from([0xff]), Buffer.from('12", "x": 12.5}')]), reason: /^not valid UTF-8 \(byte 0xFF at byte 22 of the line\)/, values: { id: 12, x: 12.5 } },
  17: { text: Buffer.from('{"id": "seventeen", "name": "n17", "x": 17.5}'), column: 'id', reason: /value "seventeen" is a string, not an integer/, values: { name: 'n17', x: 17.5 } },
  18: { text: Buffer.from('{"id": 18, "name": "n18", "x": 18.5, "extra": true}'), reason: /field "extra" is not in the schema/, values: { id: 18, name: 'n18', x: 18.5, extra: true } },
  25: { text: Buffer.from(`{"id": 25, "name": "${'y'.repeat(500)}", "x": 25.5}`), reason: /^line longer than 100 bytes \(source\.maxRowBytes\); raw holds its first 1024 bytes only/, values: {} },
  31: { text: Buffer.from('{"id": 9007199254740993, "name": "n31", "x": "abc"}'), column: 'x', reason: /value "abc" is a string/, values: { id: 9007199254740993n, name: 'n31' } },
  39: { text: Buffer.from('7'), reason: /^is a JSON number, not an object/, values: {} },
};
const badAt = Object.keys(BAD).map(Number);

let ws: Workspace;
let file: string;
beforeAll(() => {
  ws = workspace('sluice-ndjson-salvage-');
  file = path.join(ws.dir, 'in.ndjson');
  const lines = Array.from({ length: LINES }, (_, i) => BAD[i]?.text ?? good(i));
  writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
});
afterAll(() => ws.cleanup());

async function read(f: string, readSize: number, onBadRow?: (bad: BadRow) => void): Promise<number[]> {
  const ids: number[] = [];
  for await (const { batch, lease } of readNdjson(f, { batchRows: 8, maxRowBytes: MAX, readSize, ...(onBadRow && { onBadRow }) })) {
    for (const v of batch.getChild('id')!) ids.push(Number(v));
    lease?.release();
  }
  return ids;
}

describe.each([5, 64, 1 << 20])('reads of %i bytes', (readSize) => {
  it('takes out exactly the bad lines, with line, column, reason, text and parsed values; the rest flow on', async () => {
    const bad: BadRow[] = [];
    const ids = await read(file, readSize, (b) => bad.push(b));
    expect(ids).toEqual(Array.from({ length: LINES }, (_, i) => i).filter((i) => !badAt.includes(i)));
    expect(bad.map((b) => [b.line, b.column])).toEqual(badAt.map((i) => [i + 1, BAD[i].column]));
    bad.forEach((b, k) => {
      const want = BAD[badAt[k]];
      expect(b.file).toBe(file);
      expect(b.reason).toMatch(want.reason);
      expect(b.values).toEqual(want.values);
      // The line's text as read (invalid UTF-8 as U+FFFD); an over-long line's first 1024 bytes.
      expect(b.raw).toBe(want.text.toString('utf8').slice(0, 1024));
    });
  });
});

it.each(badAt)('without onBadRow, the bad line %i fails the read naming its own line', async (i) => {
  const alone = path.join(ws.dir, `alone-${i}.ndjson`);
  const lines = Array.from({ length: LINES }, (_, k) => (k === i ? BAD[i].text : good(k)));
  writeFileSync(alone, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  await expect(read(alone, 64)).rejects.toMatchObject({ line: i + 1, message: expect.stringContaining(`line ${i + 1}`) });
});

it('a batch of bad lines only gives no batch; the next batch fixes the types', async () => {
  const f = path.join(ws.dir, 'all-bad-first.ndjson');
  const lines = [...Array.from({ length: 8 }, () => Buffer.from('[1]')), ...Array.from({ length: 8 }, (_, i) => good(i))];
  writeFileSync(f, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  const bad: BadRow[] = [];
  expect(await read(f, 64, (b) => bad.push(b))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(bad.map((b) => b.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
});
