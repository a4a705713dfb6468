/**
 * ctx.strings on a Utf8View column (what polars writes): an inline value (0-12 bytes) that is
 * ASCII is made from its bytes as character codes, one case per length; these hold every
 * length, beside values that are not ASCII, longer ones, nulls and slices, to what apache-arrow's
 * own reader gives.
 */
import { tableFromIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { readStrings } from '../../../src/batch/strings';

const lengths = Array.from({ length: 14 }, (_, n) => n); // 0-12 inline, 13 in a data buffer
const ascii = lengths.map((n) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x21 + ((n * 7 + i * 13) % 94))).join(''));
const values: (string | null)[] = [...ascii, null, 'é', 'aé', '12345678901é', '\u0000\u007f', 'x'.repeat(12), '😀', ...ascii.slice().reverse(), null];

function viewBatch(v: (string | null)[]) {
  const batch = tableFromIPC(pl.DataFrame({ s: v }).writeIPC()).batches[0];
  expect(String(batch.schema.fields[0].type)).toBe('Utf8View');
  return batch;
}

describe('readStrings of Utf8View: inline ASCII values of every length', () => {
  it('equals the values written and apache-arrow get()', () => {
    const batch = viewBatch(values);
    const got = readStrings(batch, 's');
    expect(got).toEqual(values);
    expect(got).toEqual(Array.from({ length: batch.numRows }, (_, i) => batch.getChild('s')!.get(i) ?? null));
  });

  it('on every slice start (views indexed from the slice)', () => {
    const batch = viewBatch(values);
    for (let from = 0; from < values.length; from += 3) expect(readStrings(batch.slice(from, from + 9), 's')).toEqual(values.slice(from, from + 9));
  });

  it('gives strings of exactly their length (no padding bytes of the view)', () => {
    for (const s of readStrings(viewBatch(ascii), 's')) expect(ascii).toContain(s);
  });
});
