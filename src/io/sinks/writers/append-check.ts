/**
 * What `sink.mode: "append"` must check before adding rows to an existing text file: the
 * CSV header is the output's columns in the same order, with the delimiter the sink
 * writes (`,`); and a file without a final newline gets one first, so the first new row
 * is not glued to the last old one. Read from the head and tail only, whatever the size.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SinkError } from '../../../errors';

const HEAD_BYTES = 1024 * 1024;

interface Ends {
  size: number;
  endsWithNewline: boolean;
  head: string;
}

function readEnds(file: string): Ends {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    readSync(fd, head, 0, head.length, 0);
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
  const ends = readEnds(file);
  if (ends.size === 0) return header;
  const found = firstRecord(ends.head);
  if (!found) throw new SinkError(`cannot append to ${shownAs}: its header row does not end within its first ${HEAD_BYTES} bytes (an unclosed quote?)`);
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

/** NDJSON: a newline first when the file's last line has none. */
export function ndjsonAppendPrefix(file: string): string {
  return readEnds(file).endsWithNewline ? '' : '\n';
}
