/**
 * A quick look at a text column's values in the batch's bytes, for the check in ndjson-strict.ts:
 * polars writes a number, true/false, an object or an array that shares a text column as text,
 * so a column of codes like "01234" looks the same as one where polars rewrote 1234. Parsing
 * every line to tell them apart cost 2–4× a batch's read; this finds each `"name":` with one
 * native search and looks at the byte after it: a quote (a string) or `n` (null) is fine.
 */

const QUOTE = 34;
const COLON = 58;
const N = 110;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/**
 * True when every value of top-level column `name` in `bytes` is surely a JSON string or null:
 * `strings` is how many non-null values polars read. False means: look line by line (a value
 * that is not a string follows some `"name":`, nested or not, or the key may be written with
 * escapes, so the strings found are too few).
 */
export function surelyStrings(bytes: Buffer, name: string, strings: number): boolean {
  const key = JSON.stringify(name);
  // `\u0061` or `\/` could spell the key another way: the count below would not see it.
  if (bytes.indexOf('\\u') >= 0 || (name.includes('/') && bytes.indexOf('\\/') >= 0)) return false;
  const pattern = Buffer.from(key);
  let found = 0;
  for (let at = bytes.indexOf(pattern); at >= 0; at = bytes.indexOf(pattern, at + pattern.length)) {
    let i = at + pattern.length;
    while (i < bytes.length && isSpace(bytes[i])) i++;
    if (bytes[i] !== COLON) continue; // the text inside a value, not a key
    i++;
    while (i < bytes.length && isSpace(bytes[i])) i++;
    if (bytes[i] === QUOTE) found++;
    else if (bytes[i] !== N) return false;
  }
  return found >= strings;
}
