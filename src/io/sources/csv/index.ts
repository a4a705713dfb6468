/**
 * CSV, truly streaming: bytes are read in reused buffers, cut into chunks of whole rows
 * (quote-aware, see chunker.ts) and each chunk is parsed by polars with a schema fixed
 * after the first `inferRows` rows, so every batch has the same schema and no value is
 * silently turned into null.
 */
import { isUtf8 } from 'node:buffer';
import pl, { DataType } from 'nodejs-polars';
import type { ColumnTypeName, SourceConfig } from '../../../config/types';
import { SourceError } from '../../../errors';
import { polarsToBatches, type BatchWithLease } from '../arrow-convert';
import { readBytes } from '../bytes';
import { RowChunker, type RowChunk } from './chunker';
import { readHeader } from './header';
import { fits, inferColumn } from './infer';

export interface CsvReadOptions {
  file: string;
  cfg: SourceConfig & { batchRows: number };
  /** Bytes per read; tests make it tiny to put chunk edges inside quoted fields. */
  readSize?: number;
  onBytes?: (n: number) => void;
  /** Column types fixed by an earlier file of the same source (all files share one schema). */
  types?: Record<string, ColumnTypeName>;
  /** Told the column types once they are fixed. */
  onTypes?: (types: Record<string, ColumnTypeName>) => void;
}

const DTYPES: Record<ColumnTypeName, DataType> = {
  utf8: pl.String,
  bool: pl.Bool,
  int8: pl.Int8,
  int16: pl.Int16,
  int32: pl.Int32,
  int64: pl.Int64,
  uint8: pl.UInt8,
  uint16: pl.UInt16,
  uint32: pl.UInt32,
  uint64: pl.UInt64,
  float32: pl.Float32,
  float64: pl.Float64,
  date: pl.Date,
  datetime: pl.Datetime('ms'),
  timestamp: pl.Datetime('ms'),
};

export async function* readCsv(o: CsvReadOptions): AsyncGenerator<BatchWithLease> {
  const bytes = readBytes(o.file, o.readSize, o.onBytes);
  try {
    yield* readRows(o, bytes);
  } finally {
    // Ends the read (closes the file) however this stops: the end, an error, an empty file.
    await bytes.return(undefined);
  }
}

async function* readRows(o: CsvReadOptions, bytes: AsyncGenerator<Buffer>): AsyncGenerator<BatchWithLease> {
  const { cfg, file } = o;
  const delimiter = cfg.delimiter ?? ',';
  const quote = cfg.quote ?? '"';
  const header = await readHeader(bytes, { file, delimiter, quote, hasHeader: cfg.header ?? true });
  if (!header) return; // an empty file: no columns, no rows
  const names = header.names;
  const selected = cfg.columns ?? names;
  for (const c of selected) if (!names.includes(c)) throw new SourceError(`no column "${c}" (columns: ${names.join(', ')})`, { file });

  const batchRows = cfg.batchRows;
  const inferRows = cfg.inferRows ?? 10_000;
  const chunker = new RowChunker({
    file,
    rowsPerChunk: Math.ceil(inferRows / batchRows) * batchRows,
    fields: names.length,
    delimiter: delimiter.charCodeAt(0),
    quote: quote.charCodeAt(0),
    firstLine: header.nextLine,
    // Every chunk is parsed with this header line in front (synthesised when the file has none).
    prefix: Buffer.from(names.map((n) => csvQuote(n, delimiter, quote)).join(delimiter) + '\n'),
  });
  const base = { hasHeader: true, sep: delimiter, quoteChar: quote, nullValues: cfg.nullValues, ignoreErrors: false } as const;
  let types: Record<string, ColumnTypeName> | undefined = o.types;

  const parse = (chunk: RowChunk): Iterable<BatchWithLease> => {
    checkUtf8(chunk, file);
    const text = chunk.text;
    if (!types) {
      types = inferTypes(text, base, names, inferRows, cfg.schema);
      o.onTypes?.(types);
    }
    let df: pl.DataFrame;
    try {
      df = pl.readCSV(text, { ...base, columns: selected, dtypes: Object.fromEntries(selected.map((c) => [c, DTYPES[types![c]]])) });
    } catch (err) {
      throw locateBadValue(text, base, chunk, types, selected, file, err);
    }
    return polarsToBatches(df, batchRows);
  };

  let any = false;
  for await (const data of prepend(header.rest, bytes)) {
    for (const chunk of chunker.push(data)) {
      any = true;
      yield* parse(chunk);
      chunker.setRowsPerChunk(batchRows);
    }
  }
  const last = chunker.end();
  if (last) {
    any = true;
    yield* parse(last);
  }
  if (!any) {
    // Header only: one empty batch carries the schema (declared types, else text).
    const empty = pl.DataFrame(Object.fromEntries(selected.map((c) => [c, pl.Series(c, [], DTYPES[cfg.schema?.[c] ?? 'utf8'])])));
    yield* polarsToBatches(empty, batchRows);
  }
}

async function* prepend(first: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}

function inferTypes(text: Buffer, base: object, names: string[], rows: number, overrides: Record<string, ColumnTypeName> = {}): Record<string, ColumnTypeName> {
  const sample = pl.readCSV(text, { ...base, inferSchemaLength: 0, nRows: rows });
  const types: Record<string, ColumnTypeName> = {};
  for (const name of names) types[name] = overrides[name] ?? inferColumn(sample.getColumn(name).toArray() as (string | null)[]);
  return types;
}

/** polars said a value does not parse: find which one, and say where. */
function locateBadValue(
  text: Buffer,
  base: object,
  chunk: RowChunk,
  types: Record<string, ColumnTypeName>,
  columns: string[],
  file: string,
  cause: unknown,
): SourceError {
  const raw = pl.readCSV(text, { ...base, inferSchemaLength: 0, columns });
  for (const column of columns) {
    const values = raw.getColumn(column).toArray() as (string | null)[];
    const row = values.findIndex((v) => v !== null && !fits(types[column], v));
    if (row >= 0) {
      return new SourceError(
        `value ${JSON.stringify(values[row])} is not a valid ${types[column]} (the column's type, fixed from the first rows or the config's schema)`,
        { file, line: lineOfRow(chunk, row, (base as { quoteChar: string }).quoteChar.charCodeAt(0)), column },
        cause,
      );
    }
  }
  const message = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  return new SourceError(`cannot parse rows ${chunk.firstLine}–: ${message}`, { file, line: chunk.firstLine }, cause);
}

/** Physical line of the chunk's `row`-th row (rows may span lines inside quotes). */
function lineOfRow(chunk: RowChunk, row: number, quote: number): number {
  let line = chunk.firstLine;
  let seen = 0;
  let inQuotes = false;
  for (let i = 0; i < chunk.bytes.length && seen < row; i++) {
    const c = chunk.bytes[i];
    if (c === quote) inQuotes = !inQuotes;
    else if (c === 10) {
      line++;
      if (!inQuotes) seen++;
    }
  }
  return line;
}

function checkUtf8(chunk: RowChunk, file: string): void {
  if (isUtf8(chunk.bytes)) return;
  let line = chunk.firstLine;
  let start = 0;
  for (let i = 0; i <= chunk.bytes.length; i++) {
    if (i === chunk.bytes.length || chunk.bytes[i] === 10) {
      if (!isUtf8(chunk.bytes.subarray(start, i))) break;
      line++;
      start = i + 1;
    }
  }
  throw new SourceError('invalid UTF-8 (only UTF-8 text is read; convert the file, e.g. with iconv)', { file, line });
}

function csvQuote(value: string, delimiter: string, quote: string): string {
  return value.includes(delimiter) || value.includes(quote) || /[\r\n]/.test(value) ? quote + value.split(quote).join(quote + quote) + quote : value;
}
