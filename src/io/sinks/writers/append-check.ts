/**
 * What `sink.mode: "append"` must check before adding rows to an existing text file: the
 * CSV header (or the first NDJSON object's keys) is the output's columns in the same order,
 * with the delimiter the sink writes (`,`); and a file without a final newline gets one
 * first, so the first new row is not glued to the last old one. Only the first line and the
 * last byte are read, whatever the size.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CSV_INFER_ROWS } from '../../../defaults';
import { SinkError } from '../../../errors';
import { inferColumn, type CsvType } from '../../../csv/infer';

const HEAD_BYTES = 1024 * 1024;
/** A first line longer than this is not read whole (and appending is refused). */
const MAX_HEAD_BYTES = 64 * 1024 * 1024;

interface Ends {
  size: number;
  endsWithNewline: boolean;
  head: string;
}

/** The file's size, whether it ends with a newline, and its head: the first line, at least `minHead` bytes. */
function readEnds(file: string, shownAs: string, minHead = 0): Ends {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    // Grow the head until it holds the first line (or the whole file).
    let head = Buffer.alloc(0);
    while (head.length < size && (!head.includes(0x0a) || head.length < minHead)) {
      if (head.length >= MAX_HEAD_BYTES) throw new SinkError(`cannot append to ${shownAs}: its first line is longer than ${MAX_HEAD_BYTES} bytes`);
      const more = Buffer.alloc(Math.min(size - head.length, Math.max(HEAD_BYTES, head.length)));
      readSync(fd, more, 0, more.length, head.length);
      head = Buffer.concat([head, more]);
    }
    const last = Buffer.alloc(1);
    if (size > 0) readSync(fd, last, 0, 1, size - 1);
    return { size, endsWithNewline: size === 0 || last[0] === 0x0a, head: head.toString('utf8') };
  } finally {
    closeSync(fd);
  }
}

/** The first CSV record of `text` (RFC 4180 quoting), or undefined when it has no end within the head. */
export function firstRecord(text: string, delimiter = ','): string[] | undefined {
  return records(text, 1, delimiter, true)[0]?.map((v) => v ?? '');
}

/**
 * Up to `limit` CSV records of `text` (RFC 4180), values as the reader sees them: an empty
 * unquoted field is null, a quoted one is ''. A last record without its line end counts only
 * when `lastMayBeOpen` (the head of a file may end mid-record).
 */
function records(text: string, limit: number, delimiter = ',', lastMayBeOpen = false): (string | null)[][] {
  const out: (string | null)[][] = [];
  let fields: (string | null)[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  const endField = () => {
    fields.push(field === '' && !wasQuoted ? null : field);
    field = '';
    wasQuoted = false;
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length && out.length < limit; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = wasQuoted = true;
    else if (c === delimiter) endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endField();
      if (!(fields.length === 1 && fields[0] === null)) out.push(fields); // blank lines hold no record
      fields = [];
    } else field += c;
  }
  if (lastMayBeOpen && !quoted && out.length < limit && (field !== '' || fields.length)) {
    endField();
    out.push(fields);
  }
  return out;
}

/**
 * The type each column of an existing CSV file reads back as (the reader's own inference over
 * its first rows, up to CSV_INFER_ROWS within the head read), so that `append` can refuse
 * values that would read back as another type.
 */
export function csvColumnTypes(file: string, shownAs = file): CsvType[] {
  const ends = readEnds(file, shownAs, 4 * HEAD_BYTES);
  // Complete records only (the head may end inside one); blank lines hold none.
  const [header, ...rows] = records(ends.head, CSV_INFER_ROWS + 1);
  return (header ?? []).map((_, c) => inferColumn(rows.map((r) => r[c] ?? null)));
}

/**
 * The text to write before the first appended CSV row: the header when the file is empty,
 * a newline when its last line has none, else nothing. Throws when the header differs.
 * `shownAs`: the path to name in messages (the user's file, not the working copy).
 */
export function csvAppendPrefix(file: string, columns: string[], header: string, shownAs = file): string {
  const ends = readEnds(file, shownAs);
  if (ends.size === 0) return header;
  const found = firstRecord(ends.head);
  if (!found) throw new SinkError(`cannot append to ${shownAs}: its header row does not end on its first line (a quoted line break or an unclosed quote)`);
  if (found.join('\0') !== columns.join('\0')) {
    const other = [';', '\t', '|'].find((d) => found.length === 1 && (firstRecord(ends.head, d) ?? []).length > 1);
    if (other) {
      throw new SinkError(
        `cannot append to ${shownAs}: it is delimited by ${JSON.stringify(other)} (header ${JSON.stringify(found[0])}) and the CSV sink writes ","; write to another file or use sink.mode "overwrite"`,
      );
    }
    throw new SinkError(
      `cannot append to ${shownAs}: its header is ${JSON.stringify(found)} but the rows to add have columns ${JSON.stringify(columns)}; ` +
        'sink.mode "append" needs the same columns in the same order (select or rename them in a stage, write to another file, or use "overwrite")',
    );
  }
  return ends.endsWithNewline ? '' : '\n';
}

/**
 * NDJSON: the first line's keys must be the output's columns in the same order (sluice reads
 * a file back with the first line's fields, and refuses new ones); a newline first when the
 * file's last line has none. An empty file takes the rows as they are.
 */
export function ndjsonAppendPrefix(file: string, columns: string[], shownAs = file): string {
  const ends = readEnds(file, shownAs);
  const line = ends.head.replace(/^\uFEFF/, '').split('\n', 1)[0].trim();
  if (line === '') return ends.endsWithNewline ? '' : '\n';
  let keys: string[] | undefined;
  try {
    const first: unknown = JSON.parse(line);
    if (first && typeof first === 'object' && !Array.isArray(first)) keys = Object.keys(first);
  } catch {
    // reported below
  }
  if (!keys) throw new SinkError(`cannot append to ${shownAs}: its first line is not a JSON object, so it is not an NDJSON file sluice can add rows to`);
  if (keys.join('\0') !== columns.join('\0')) {
    throw new SinkError(
      `cannot append to ${shownAs}: its first object has keys ${JSON.stringify(keys)} but the rows to add have columns ${JSON.stringify(columns)}; ` +
        'sink.mode "append" needs the same columns in the same order (select or rename them in a stage, write to another file, or use "overwrite")',
    );
  }
  return ends.endsWithNewline ? '' : '\n';
}
