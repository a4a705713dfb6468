/**
 * Reads a CSV's first row (quote-aware, BOM stripped): the column names, or with
 * `hasHeader: false` just their count (`column_1 …`). Returns the bytes after it.
 *
 * Names must be usable as they are: valid UTF-8, none empty (an Arrow field named "" comes
 * back as "null" from apache-arrow's IPC, which stages and threads go through), none twice.
 * A first row longer than `maxRowBytes` is refused once that much is read.
 */
import { isUtf8 } from 'node:buffer';
import { SourceError } from '../../../errors';
import { fieldAt, firstBadByte, invalidUtf8 } from '../../../csv/utf8';

export interface Header {
  names: string[];
  /** Bytes already read that follow the header (or the whole first row when there is none). */
  rest: Buffer;
  /** Physical line number of the first byte of `rest`. */
  nextLine: number;
}

export interface HeaderOptions {
  file: string;
  delimiter: string;
  quote: string;
  hasHeader: boolean;
  maxRowBytes: number;
}

export async function readHeader(bytes: AsyncIterator<Buffer>, o: HeaderOptions): Promise<Header | undefined> {
  // Reads are kept as they come and joined once: joining per read was quadratic on a long first row.
  const parts: Buffer[] = [];
  let length = 0;
  const scan = { inQuotes: false, newlinesInside: 0 };
  let end = -1;
  while (end < 0) {
    const r = await bytes.next();
    if (r.done) break;
    const at = rowEnd(r.value, o.quote.charCodeAt(0), scan);
    if (at >= 0) end = length + at;
    parts.push(Buffer.from(r.value)); // the reader reuses its buffer
    length += r.value.length;
    if (end < 0 && length > o.maxRowBytes + 3) tooLong(o);
  }
  let head = Buffer.concat(parts, length);
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
    head = head.subarray(3);
    if (end >= 0) end -= 3;
  }
  if (head.length === 0) return undefined;
  const rowEndAt = end < 0 ? head.length : end;
  if (rowEndAt > o.maxRowBytes) tooLong(o);
  const row = head.subarray(0, rowEndAt);
  if (o.hasHeader && !isUtf8(row)) throw invalidUtf8(o.file, 1, row, `column ${fieldAt(row, firstBadByte(row), o.delimiter.charCodeAt(0), o.quote.charCodeAt(0)) + 1} of the header`);
  const fields = splitRow(row.toString('utf8').replace(/\r$/, ''), o.delimiter, o.quote, o.file);
  if (o.hasHeader) {
    checkNames(fields, o.file);
    return { names: fields, rest: Buffer.from(head.subarray(Math.min(rowEndAt + 1, head.length))), nextLine: 2 + scan.newlinesInside };
  }
  return { names: fields.map((_, i) => `column_${i + 1}`), rest: Buffer.from(head), nextLine: 1 };
}

function tooLong(o: HeaderOptions): never {
  throw new SourceError(`first row longer than ${o.maxRowBytes} bytes (source.maxRowBytes); raise source.maxRowBytes if rows really are this long`, { file: o.file, line: 1 });
}

function checkNames(names: string[], file: string): void {
  if (names.length === 1 && names[0].trim() === '') {
    throw new SourceError('the header line is empty (the column names must be on the first line; or set source.header: false)', { file, line: 1 });
  }
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    // An empty name ("") is a name like any other: batch/arrow-names.ts keeps it through every hand-off.
    const first = seen.get(name);
    if (first !== undefined) throw new SourceError(`duplicate column name "${name}" in the header (columns ${first + 1} and ${i + 1}); names must be unique`, { file, line: 1 });
    seen.set(name, i);
  });
}

/** Index in `buf` of the LF ending the row (outside quotes), or -1; `s` carries the quote state across reads. */
function rowEnd(buf: Buffer, quote: number, s: { inQuotes: boolean; newlinesInside: number }): number {
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === quote) s.inQuotes = !s.inQuotes;
    else if (c === 10) {
      if (!s.inQuotes) return i;
      s.newlinesInside++;
    }
  }
  return -1;
}

/** Split one row's text into fields (RFC 4180 quoting); a quote inside an unquoted field is an error. */
export function splitRow(text: string, delimiter: string, quote: string, file?: string): string[] {
  const out: string[] = [];
  let field = '';
  let inQuotes = false;
  let fieldStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === quote && text[i + 1] === quote) {
        field += quote;
        i++;
      } else if (c === quote) inQuotes = false;
      else field += c;
    } else if (c === quote) {
      if (i !== fieldStart && text[i - 1] !== quote) {
        throw new SourceError(`a quote inside an unquoted field (field ${out.length + 1} of the first row): quote the whole field and double the quotes in it, e.g. "b""c"`, { file, line: 1 });
      }
      inQuotes = true;
    } else if (c === delimiter) {
      out.push(field);
      field = '';
      fieldStart = i + 1;
    } else field += c;
  }
  out.push(field);
  return out;
}
