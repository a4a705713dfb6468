/**
 * One chunk of whole CSV rows → a polars DataFrame with the file's fixed column types. A
 * value that does not fit its type is an error naming file, line and column, never a silent
 * null. Pure data in, so it runs wherever the chunk is: the source, a Parquet encoder thread
 * converting CSV directly, or a thread stage's worker that parses its own input (fusion).
 * Shared by io/sources, io/sinks and worker/, so it lives in none of them.
 */
import type pl from 'nodejs-polars';
import type { DataType } from 'nodejs-polars';
import { polars } from '../batch/lazy-polars';
import { isError, SourceError } from '../errors';
import { physicalLine } from './blank-lines';
import { fits, type CsvType } from './infer';
import { checkChunkText, type TextCheck } from './strict';

/** How every chunk of a file is parsed (plain data: it crosses to threads). */
export interface CsvParse {
  file: string;
  /** polars' CSV options: header line first, separator, quote, null values, no ignored errors. */
  base: { hasHeader: true; sep: string; quoteChar: string; nullValues?: string | string[] | Record<string, string>; ignoreErrors: false };
  /** The columns read, in order. */
  columns: string[];
  /**
   * The same columns as polars sees them: the header line in front of each chunk has plain
   * names of our own (`c0`, `c1`, …), because polars does not read every name back as written
   * (a quote inside a quoted name stays doubled); results are renamed to `columns`.
   */
  fields: string[];
  types: Record<string, CsvType>;
  /** The columns whose text is held to their type's rules beyond what polars checks (csv/strict.ts). */
  check?: TextCheck;
}

/** A chunk as parsed: the header line then whole rows (`text`), and where its rows start. */
export interface ChunkText {
  text: Buffer;
  /** Bytes of the header line in front of the rows. */
  prefixLength: number;
  rows: number;
  /** Physical line number of the first row. */
  firstLine: number;
  /** Physical lines of the blank lines removed from `text`, if any (for line numbers). */
  skippedLines?: number[];
}

/** A chunk of whole rows, checked, and how to parse it (the file's fixed column types). */
export interface CsvChunk extends ChunkText {
  parse: CsvParse;
  /** Gives the text's memory back for reuse, when the chunk owns it (a reader's `ownChunks`). */
  recycle?: () => void;
}

/** polars' type for each CSV type, built on first use (polars loads when a chunk is parsed here, not with this module). */
let dtypes: Record<CsvType, DataType> | undefined;
function dtypeTable(): Record<CsvType, DataType> {
  const p = polars();
  return (dtypes ??= {
    utf8: p.String,
    bool: p.Bool,
    int8: p.Int8,
    int16: p.Int16,
    int32: p.Int32,
    int64: p.Int64,
    uint8: p.UInt8,
    uint16: p.UInt16,
    uint32: p.UInt32,
    uint64: p.UInt64,
    float32: p.Float32,
    float64: p.Float64,
    date: p.Date,
    datetime: p.Datetime('ms'),
    timestamp: p.Datetime('ms'),
    time: p.Time,
    'datetime[us]': p.Datetime('us'),
    'datetime[ms, UTC]': p.Datetime('ms', 'UTC'),
    'datetime[us, UTC]': p.Datetime('us', 'UTC'),
    'datetime[ns]': p.Datetime('ns'),
    'datetime[ns, UTC]': p.Datetime('ns', 'UTC'),
  });
}
export const DTYPES: Readonly<Record<CsvType, DataType>> = new Proxy({} as Record<CsvType, DataType>, { get: (_, type) => dtypeTable()[type as CsvType] });

/**
 * Benchmark hook, never a user option: `SLUICE_TEST_SKIP_CSV_TEXT_CHECK=1` leaves the later-row
 * text check out, so bench/check-cost.py can weigh the check against the same build without it
 * (its cost is the ≤ 5 % issue 23 allows). Read once at load, like SLUICE_TEST_STOP_AT.
 */
const SKIP_TEXT_CHECK = process.env.SLUICE_TEST_SKIP_CSV_TEXT_CHECK === '1';

export function parseChunk(chunk: ChunkText, p: CsvParse): pl.DataFrame {
  // No rows (a header-only file): the declared columns and types, empty.
  if (chunk.rows === 0) return polars().DataFrame(Object.fromEntries(p.columns.map((c) => [c, polars().Series(c, [], DTYPES[p.types[c]])])));
  let df: pl.DataFrame;
  try {
    df = readTyped(chunk, p);
  } catch (err) {
    throw locateBadValue(chunk, p, err);
  }
  // After polars accepted every value: what it would have changed without a word.
  if (p.check && !SKIP_TEXT_CHECK) checkChunkText(chunk, p.check, p.file, p.base.sep, p.base.quoteChar);
  // Our internal names back to the file's, all at once: polars' rename(mapping) renames one
  // column per native call and each lists every column (10 000 columns: 15 s, quadratic), and
  // a pl.col().alias() per column cost ~0.5 ms of JS each. Polars keeps the file's column
  // order, and a projection is in the config's order, as every other source's is.
  return renamed(df, p);
}

/** `df` (ours: fresh from readCSV) with the file's names, in `p.columns` order; a fixed number of native calls whatever the width. */
export function renamed(df: pl.DataFrame, p: Pick<CsvParse, 'fields' | 'columns'>): pl.DataFrame {
  const names = new Map(p.fields.map((f, i) => [f, p.columns[i]]));
  const given = df.columns.map((f) => names.get(f) ?? f);
  df.columns = given;
  return given.every((c, i) => c === p.columns[i]) ? df : df.select(...p.columns);
}

const TEMPORAL = new Set<CsvType>(['date', 'time', 'datetime', 'timestamp', 'datetime[us]', 'datetime[ns]', 'datetime[ms, UTC]', 'datetime[us, UTC]', 'datetime[ns, UTC]']);

function readTyped(chunk: ChunkText, p: CsvParse, asText = new Set<string>()): pl.DataFrame {
  const dtypes = Object.fromEntries(p.columns.map((c, i) => [p.fields[i], asText.has(c) ? polars().String : DTYPES[p.types[c]]]));
  try {
    const df = polars().readCSV(chunk.text, { ...p.base, columns: p.fields, dtypes });
    if (asText.size === 0) return df;
    return df.withColumns(...[...asText].map((c) => polars().lit(null).cast(DTYPES[p.types[c]]).alias(p.fields[p.columns.indexOf(c)])));
  } catch (err) {
    // polars cannot parse a date or datetime column whose values in this chunk are all null
    // (a later file with an empty column): read those as text, then type them as the nulls they are.
    if (asText.size > 0 || !/all values are null/.test(String((err as Error).message))) throw err;
    const temporal = p.columns.filter((c) => TEMPORAL.has(p.types[c]));
    const raw = polars().readCSV(chunk.text, { ...p.base, columns: temporal.map((c) => p.fields[p.columns.indexOf(c)]), inferSchemaLength: 0 });
    const allNull = temporal.filter((c) => raw.getColumn(p.fields[p.columns.indexOf(c)]).nullCount() === raw.height);
    if (allNull.length === 0) throw err;
    return readTyped(chunk, p, new Set(allNull));
  }
}

/** polars said a value does not parse: find which one, and say where. */
function locateBadValue(chunk: ChunkText, p: CsvParse, cause: unknown): SourceError {
  const stray = textAfterQuote(chunk, p.base.sep, p.base.quoteChar);
  if (stray) return strayQuoteError(chunk, p.file, p.base.quoteChar, stray, p.columns[stray.field] ?? `#${stray.field + 1}`, cause);
  const raw = polars().readCSV(chunk.text, { ...p.base, inferSchemaLength: 0, columns: p.fields });
  // Every column at once: getColumn(name) lists every column per call (quadratic in the width).
  const byField = new Map(raw.getColumns().map((s) => [s.name, s]));
  for (const [k, column] of p.columns.entries()) {
    const values = byField.get(p.fields[k])!.toArray() as (string | null)[];
    const row = values.findIndex((v) => v !== null && !fits(p.types[column], v));
    if (row >= 0) {
      return new SourceError(
        `value ${JSON.stringify(values[row])} is not a valid ${p.types[column]} (the column's type, fixed from the first rows or the config's schema)`,
        { file: p.file, line: lineOfRow(chunk, row, p.base.quoteChar.charCodeAt(0)), column },
        cause,
      );
    }
  }
  const message = isError(cause) ? cause.message.split('\n')[0] : String(cause);
  return new SourceError(`cannot parse rows ${chunk.firstLine}–: ${message}`, { file: p.file, line: chunk.firstLine }, cause);
}

/**
 * Text after a closing quote (`"ab"c,1`): polars refuses the whole chunk, naming neither row
 * nor column. RFC 4180 allows only a delimiter or a line end there. The scanner that cuts
 * chunks does not check it, so it is found here, when polars has refused.
 */
export function textAfterQuote(chunk: ChunkText, sep: string, quoteChar: string): { row: number; field: number } | undefined {
  const quote = quoteChar.charCodeAt(0);
  const delimiter = sep.charCodeAt(0);
  const text = chunk.text;
  let row = 0;
  let field = 0;
  let inQuotes = false;
  for (let i = chunk.prefixLength; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c !== quote) continue;
      if (text[i + 1] === quote) i++; // "" inside quotes
      else {
        inQuotes = false;
        const next = text[i + 1];
        if (next !== undefined && next !== delimiter && next !== 10 && next !== 13) return { row, field };
      }
    } else if (c === quote) inQuotes = true;
    else if (c === delimiter) field++;
    else if (c === 10) {
      row++;
      field = 0;
    }
  }
  return undefined;
}

export function strayQuoteError(chunk: ChunkText, file: string, quoteChar: string, at: { row: number; field: number }, column: string, cause: unknown): SourceError {
  return new SourceError(
    'text after the closing quote of a quoted field (e.g. "ab"c): only a delimiter or a line end may follow it; quote the whole value and double the quotes inside, e.g. "ab""c"',
    { file, line: lineOfRow(chunk, at.row, quoteChar.charCodeAt(0)), column },
    cause,
  );
}

/** Physical line of each of the chunk's first `rows` rows, in one pass (rows may span lines inside quotes). */
export function rowLines(chunk: ChunkText, quote: number, rows: number): number[] {
  const out: number[] = [];
  let line = chunk.firstLine;
  let inQuotes = false;
  if (rows > 0) out.push(physicalLine(line, chunk.skippedLines));
  for (let i = chunk.prefixLength; i < chunk.text.length && out.length < rows; i++) {
    const c = chunk.text[i];
    if (c === quote) inQuotes = !inQuotes;
    else if (c === 10) {
      line++;
      if (!inQuotes) out.push(physicalLine(line, chunk.skippedLines));
    }
  }
  return out;
}

/** Physical line of the chunk's `row`-th row (rows may span lines inside quotes). */
function lineOfRow(chunk: ChunkText, row: number, quote: number): number {
  let line = chunk.firstLine;
  let seen = 0;
  let inQuotes = false;
  for (let i = chunk.prefixLength; i < chunk.text.length && seen < row; i++) {
    const c = chunk.text[i];
    if (c === quote) inQuotes = !inQuotes;
    else if (c === 10) {
      line++;
      if (!inQuotes) seen++;
    }
  }
  return physicalLine(line, chunk.skippedLines);
}
