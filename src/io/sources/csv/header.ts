/**
 * Reads a CSV's first row (quote-aware, BOM stripped): the column names, or with
 * `hasHeader: false` just their count (`column_1 …`). Returns the bytes after it.
 */
import { SourceError } from '../../../errors';

export interface Header {
  names: string[];
  /** Bytes already read that follow the header (or the whole first row when there is none). */
  rest: Buffer;
  /** Physical line number of the first byte of `rest`. */
  nextLine: number;
}

export async function readHeader(
  bytes: AsyncIterator<Buffer>,
  o: { file: string; delimiter: string; quote: string; hasHeader: boolean },
): Promise<Header | undefined> {
  let head = Buffer.alloc(0);
  let end = -1;
  let newlinesInside = 0;
  while (end < 0) {
    const r = await bytes.next();
    if (r.done) break;
    head = Buffer.concat([head, r.value]);
    ({ end, newlinesInside } = firstRowEnd(head, o.quote.charCodeAt(0)));
  }
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
    head = head.subarray(3);
    if (end >= 0) end -= 3;
  }
  if (head.length === 0) return undefined;
  const rowEnd = end < 0 ? head.length : end;
  const text = head.subarray(0, rowEnd).toString('utf8').replace(/\r$/, '');
  const fields = splitRow(text, o.delimiter, o.quote);
  if (o.hasHeader) {
    const seen = new Set<string>();
    for (const name of fields) {
      if (seen.has(name)) throw new SourceError(`duplicate column name "${name}" in the header`, { file: o.file, line: 1 });
      seen.add(name);
    }
    return { names: fields, rest: Buffer.from(head.subarray(Math.min(rowEnd + 1, head.length))), nextLine: 2 + newlinesInside };
  }
  return { names: fields.map((_, i) => `column_${i + 1}`), rest: Buffer.from(head), nextLine: 1 };
}

/** Index of the LF ending the first row (outside quotes), or -1. */
function firstRowEnd(buf: Buffer, quote: number): { end: number; newlinesInside: number } {
  let inQuotes = false;
  let newlinesInside = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === quote) inQuotes = !inQuotes;
    else if (c === 10) {
      if (!inQuotes) return { end: i, newlinesInside };
      newlinesInside++;
    }
  }
  return { end: -1, newlinesInside };
}

/** Split one row's text into fields (RFC 4180 quoting). */
export function splitRow(text: string, delimiter: string, quote: string): string[] {
  const out: string[] = [];
  let field = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === quote && text[i + 1] === quote) {
        field += quote;
        i++;
      } else if (c === quote) inQuotes = false;
      else field += c;
    } else if (c === quote) inQuotes = true;
    else if (c === delimiter) {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}
