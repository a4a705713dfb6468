/**
 * What `sink.mode: "append"` must check before adding rows to an existing text file: the
 * CSV header (or the first NDJSON object's keys) is the output's columns in the same order,
 * with the delimiter the sink writes (`,`); and a file without a final newline gets one
 * first, so the first new row is not glued to the last old one. Only the first line and the
 * last byte are read, whatever the size.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SinkError } from '../../../errors';

const HEAD_BYTES = 1024 * 1024;
/** A first line longer than this is not read whole (and appending is refused). */
const MAX_HEAD_BYTES = 64 * 1024 * 1024;

interface Ends {
  size: number;
  endsWithNewline: boolean;
  head: string;
}

function readEnds(file: string, shownAs: string): Ends {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    // Grow the head until it holds the first line (or the whole file).
    let head = Buffer.alloc(0);
    while (head.length < size && !head.includes(0x0a)) {
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
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) fields.push(field), (field = '');
    else if (c === '\n' || c === '\r') return [...fields, field];
    else field += c;
  }
  return quoted ? undefined : [...fields, field];
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
