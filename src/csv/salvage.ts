/**
 * `source.onError: 'skip' | 'dead-letter'` for CSV: a chunk parsed as parseChunk does, except
 * that a row the checks refuse (a value that does not fit its column's type, invalid UTF-8) is
 * taken out of the chunk and told to `onBad` (with its line, column, reason, text and the
 * values that did parse), and the chunk is parsed again without it, until it parses. The
 * other rows keep their line numbers: the rows taken out count as skipped lines (as blank
 * lines do), so a later error still names its physical line.
 *
 * It runs where the parse runs (the source thread, when there is one). Cost: one more parse
 * of the chunk per bad row; a chunk without one is parsed once, as before.
 */
import { isUtf8 } from 'node:buffer';
import type pl from 'nodejs-polars';
import { polars } from '../batch/lazy-polars';
import { SourceError } from '../errors';
import { physicalLine } from './blank-lines';
import { fits, type CsvType } from './infer';
import { fieldAt, firstBadByte } from './utf8';
import { parseChunk, type ChunkText, type CsvChunk, type CsvParse } from './parse';

/** A row taken out of the input. */
export interface BadRow {
  file: string;
  /** Physical line the row starts on. */
  line: number;
  column?: string;
  reason: string;
  /** The row's text (invalid UTF-8 bytes shown as U+FFFD). */
  raw: string;
  /** The values that fit their column's type: numbers and booleans as such, the rest as text. */
  values: Record<string, unknown>;
}

export function parseSalvaging(chunk: CsvChunk, onBad: (bad: BadRow) => void): pl.DataFrame {
  const quote = chunk.parse.base.quoteChar.charCodeAt(0);
  let current: ChunkText = chunk;
  for (;;) {
    let err: unknown;
    try {
      checkUtf8Rows(current, chunk.parse, quote);
      return parseChunk(current, chunk.parse);
    } catch (e) {
      err = e;
    }
    if (!(err instanceof SourceError) || err.line === undefined) throw err;
    const cut = cutRow(current, err.line, quote);
    if (!cut) throw err; // not one row of this chunk (cannot be told apart): fails as without onError
    onBad({ file: chunk.parse.file, line: cut.line, ...(err.column !== undefined && { column: err.column }), reason: err.detail, raw: cut.raw, values: valuesOf(cut.raw, chunk.text.subarray(0, chunk.prefixLength), chunk.parse, err.column) });
    current = cut.rest;
  }
}

/**
 * The chunk without its ragged rows (kept there by the chunker, `keepRagged`), each told to
 * `onBad` with its text: a ragged row has no column to say which value went where, so none of
 * its values counts as parsed.
 */
export function cutRagged(chunk: ChunkText, ragged: readonly { line: number; found: number }[], file: string, fields: number, quoteChar: string, onBad: (bad: BadRow) => void): ChunkText {
  const quote = quoteChar.charCodeAt(0);
  let current = chunk;
  for (const r of ragged) {
    const cut = cutRow(current, r.line, quote);
    if (!cut) throw new SourceError(`expected ${fields} fields, found ${r.found} (ragged row)`, { file, line: r.line });
    onBad({ file, line: cut.line, reason: `expected ${fields} fields, found ${r.found} (ragged row)`, raw: cut.raw, values: {} });
    current = cut.rest;
  }
  return current;
}

interface RowSpan {
  start: number;
  /** After the row's line feed (or the end). */
  end: number;
  line: number;
  lastLine: number;
}

/** Every row of the chunk: its bytes and physical lines (a quoted field may hold line feeds). */
function rowSpans(chunk: ChunkText, quote: number): RowSpan[] {
  const spans: RowSpan[] = [];
  const { text } = chunk;
  let logical = chunk.firstLine;
  let start = chunk.prefixLength;
  let startLine = logical;
  let inQuotes = false;
  for (let i = chunk.prefixLength; i < text.length; i++) {
    const c = text[i];
    if (c === quote) inQuotes = !inQuotes;
    else if (c === 10) {
      if (!inQuotes) {
        spans.push({ start, end: i + 1, line: physicalLine(startLine, chunk.skippedLines), lastLine: physicalLine(logical, chunk.skippedLines) });
        start = i + 1;
        startLine = logical + 1;
      }
      logical++;
    }
  }
  if (start < text.length) spans.push({ start, end: text.length, line: physicalLine(startLine, chunk.skippedLines), lastLine: physicalLine(logical, chunk.skippedLines) });
  return spans;
}

/** The chunk without the row on physical `line`, its lines counted as skipped. */
function cutRow(chunk: ChunkText, line: number, quote: number): { rest: ChunkText; line: number; raw: string } | undefined {
  const span = rowSpans(chunk, quote).find((s) => s.line <= line && line <= s.lastLine);
  if (!span) return undefined;
  const removed: number[] = [];
  for (let l = span.line; l <= span.lastLine; l++) removed.push(l);
  const text = Buffer.concat([chunk.text.subarray(0, span.start), chunk.text.subarray(span.end)]);
  const skippedLines = [...(chunk.skippedLines ?? []), ...removed].sort((a, b) => a - b);
  // The logical numbering starts at the chunk's first row: a first row taken out moves it on by the lines that are now skipped.
  const rest: ChunkText = { text, prefixLength: chunk.prefixLength, rows: chunk.rows - 1, firstLine: chunk.firstLine, skippedLines };
  const raw = chunk.text.toString('utf8', span.start, span.end).replace(/\r?\n$/, '');
  return { rest, line: span.line, raw };
}

/**
 * Invalid UTF-8 as an error naming the first row that holds it, the byte and the column (what
 * the source's own check says without onError), so that the row is taken out with the values
 * of its other columns.
 */
function checkUtf8Rows(chunk: ChunkText, p: CsvParse, quote: number): void {
  if (isUtf8(chunk.text)) return;
  for (const span of rowSpans(chunk, quote)) {
    const row = chunk.text.subarray(span.start, span.end);
    if (isUtf8(row)) continue;
    const at = firstBadByte(row);
    const field = fieldAt(row, at, p.base.sep.charCodeAt(0), quote);
    const k = p.fields.indexOf(`c${field}`);
    throw new SourceError(`invalid UTF-8 at byte ${at + 1} of the row; only UTF-8 text is read: convert the file, e.g. with iconv`, {
      file: p.file,
      line: span.line,
      column: k >= 0 ? p.columns[k] : `#${field + 1}`,
    });
  }
}

/**
 * The chunk without its rows of invalid UTF-8, for the type inference alone: polars refuses a
 * chunk with one whole, and the rows are taken out (and told) where the chunk is parsed.
 */
export function withoutInvalidUtf8(chunk: ChunkText, quoteChar: string): ChunkText {
  if (isUtf8(chunk.text.subarray(chunk.prefixLength))) return chunk;
  const spans = rowSpans(chunk, quoteChar.charCodeAt(0));
  const kept = spans.filter((s) => isUtf8(chunk.text.subarray(s.start, s.end)));
  const text = Buffer.concat([chunk.text.subarray(0, chunk.prefixLength), ...kept.map((s) => chunk.text.subarray(s.start, s.end))]);
  return { ...chunk, text, rows: kept.length };
}

/** The row's fields that fit their column's type (the refused column left out). */
function valuesOf(raw: string, header: Buffer, p: CsvParse, refused: string | undefined): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  let row: (string | null)[];
  try {
    const df = polars().readCSV(Buffer.concat([header, Buffer.from(`${raw}\n`)]), { ...p.base, columns: p.fields, inferSchemaLength: 0 });
    row = (df.rows() as (string | null)[][])[0] ?? [];
  } catch {
    return values; // its text is kept in `raw`
  }
  p.columns.forEach((c, i) => {
    const v = row[i];
    if (c === refused || v === undefined) return;
    if (v === null) values[c] = null;
    else if (fits(p.types[c], v)) values[c] = typed(p.types[c], v);
  });
  return values;
}

function typed(type: CsvType, v: string): unknown {
  if (type === 'bool') return /^true$/i.test(v);
  if (/^(u?int|float)/.test(type)) {
    const n = Number(v);
    return Number.isFinite(n) && (!/^u?int/.test(type) || Number.isSafeInteger(n)) ? n : v;
  }
  return v;
}
