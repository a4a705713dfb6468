/**
 * buildUtf8 / utf8Parts (ctx.utf8, ctx.table, tableFromArrays of strings) write each value at
 * its offset instead of joining the column into one JS string first (35 ms for 65 536 sha256
 * digests where the writes take ~6-10). The fast path guesses one byte per character and
 * must notice every value where that is wrong, including those whose first bytes do fit
 * ('éa': 2 characters, and 'é' alone fills the 2 bytes): these cases hold it to the bytes
 * Buffer.from gives each value.
 */
import { isAscii } from 'node:buffer';
import { LoneSurrogateError, buildUtf8, utf8Parts } from '../../../src/batch/strings';

type V = string | null | undefined;

/** What the column must hold: each value's own UTF-8 bytes, back to back. */
function expectExact(values: V[]): void {
  const parts = utf8Parts(values);
  const bytes = values.map((v) => Buffer.from(v ?? '', 'utf8'));
  expect(Buffer.from(parts.data.buffer, parts.data.byteOffset, parts.data.byteLength).equals(Buffer.concat(bytes))).toBe(true);
  let at = 0;
  expect(Array.from(parts.valueOffsets)).toEqual([0, ...bytes.map((b) => (at += b.length))]);
  expect(buildUtf8(values).toArray()).toEqual(values.map((v) => v ?? null));
}

describe('ctx.utf8 writes each value in place, the same bytes as encoding it alone', () => {
  it.each([
    ['all ASCII, with nulls, undefined and empty values', ['abc', null, '', 'de', undefined, 'f'.repeat(70)]],
    ["a value whose first non-ASCII character fills its guessed bytes ('éa')", ['a', 'éa', 'b']],
    ['a non-ASCII value alone', ['é']],
    ['a character past Latin-1 range and one in it', ['x', '€', '\u0080']],
    ['a surrogate pair (2 characters, 4 bytes)', ['😀']],
    ['a pair after ASCII that half fits', ['ab😀', 'c']],
    ['non-ASCII in the last value only', [...Array.from({ length: 1000 }, (_, i) => `id-${i}`), 'zürich']],
  ] as [string, V[]][])('%s', (_name, values) => expectExact(values));

  it('random mixes of ASCII and wider characters', () => {
    const alphabet = ['a', 'Z', '0', ' ', '\u0000', '\u007f', 'é', 'ß', '€', '中', '😀', '\u0080'];
    let seed = 7;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let round = 0; round < 200; round++) {
      const values: V[] = Array.from({ length: 1 + next(20) }, () => {
        if (next(10) === 0) return null;
        const ascii = next(3) > 0;
        return Array.from({ length: next(8) }, () => alphabet[ascii ? next(6) : next(alphabet.length)]).join('');
      });
      expectExact(values);
    }
  });

  it('refuses a lone surrogate wherever it stands in the value, never writes U+FFFD', () => {
    for (const v of ['x\ud800', '\ud800x', '\udc00', 'ab\udfffcd']) {
      expect(() => buildUtf8(['ok', v])).toThrow(LoneSurrogateError);
    }
  });

  it('does not join the column into one string (the cost this path removes)', () => {
    const values = Array.from({ length: 1000 }, (_, i) => `0123456789abcdef-${i}`);
    const join = jest.spyOn(Array.prototype, 'join');
    try {
      const parts = utf8Parts(values);
      expect(join).not.toHaveBeenCalled();
      expect(isAscii(parts.data)).toBe(true);
    } finally {
      join.mockRestore();
    }
  });
});
