/** Invalid UTF-8 named by line and byte offset (no character can name it). */
import { isUtf8 } from 'node:buffer';
import { SourceError } from '../errors';

/** The error for a line (`text`, without its LF) that is not valid UTF-8. */
export function invalidUtf8(file: string, line: number, text: Buffer, where = ''): SourceError {
  return new SourceError(
    `invalid UTF-8 at byte ${firstBadByte(text) + 1} of the line${where ? ` (${where})` : ''}; only UTF-8 text is read: convert the file, e.g. with iconv`,
    { file, line },
  );
}

/** Index of the first byte that starts no valid UTF-8 character (-1: none). */
export function firstBadByte(b: Buffer): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    // isUtf8 on the one character also refuses overlong forms and surrogates.
    if (n === 0 || i + n > b.length || !isUtf8(b.subarray(i, i + n))) return i;
    i += n;
  }
  return -1;
}

/** Which field (0-based) byte `at` of a row falls in (RFC 4180 quoting). */
export function fieldAt(row: Buffer, at: number, delimiter: number, quote: number): number {
  let field = 0;
  let inQuotes = false;
  for (let i = 0; i < at; i++) {
    if (row[i] === quote) inQuotes = !inQuotes;
    else if (row[i] === delimiter && !inQuotes) field++;
  }
  return field;
}
