/**
 * CSV, truly streaming: bytes are read in reused buffers, cut into chunks of whole rows
 * (quote-aware, see chunker.ts) and each chunk is parsed by polars with a schema fixed
 * after the first `inferRows` rows, so every batch has the same schema and no value is
 * silently turned into null.
 */
import { isUtf8 } from 'node:buffer';
import { polars } from '../../../batch/lazy-polars';
import type { ColumnTypeName, SourceConfig } from '../../../config/types';
import { CSV_DELIMITER, CSV_HEADER, CSV_INFER_ROWS, CSV_MAX_CHUNK_BYTES, CSV_QUOTE, MAX_ROW_BYTES } from '../../../defaults';
import { SourceError } from '../../../errors';
import { polarsToBatches, type BatchWithLease } from '../arrow-convert';
import { readBytes, withLineOnError } from '../bytes';
import { assertColumnsExist } from '../columns';
import { LONG_ROW_HEAD, RowChunker, type RowChunk } from './chunker';
import { readHeader, type HeaderOptions } from './header';
import { physicalLine } from '../../../csv/blank-lines';
import { invalidUtf8 } from '../../../csv/utf8';
import { parseChunk, rowLines, strayQuoteError, textAfterQuote, type ChunkText, type CsvChunk } from '../../../csv/parse';
import { datetimeShape, explainColumn, NON_FINITE, type ColumnInference, type CsvType } from '../../../csv/infer';
import { textCheck, type TextRule } from '../../../csv/strict';
import { cutRagged, parseSalvaging, withoutInvalidUtf8, type BadRow } from '../../../csv/salvage';

export interface CsvReadOptions {
  file: string;
  cfg: SourceConfig & { batchRows: number };
  /** Bytes per read; tests make it tiny to put chunk edges inside quoted fields. */
  readSize?: number;
  onBytes?: (n: number) => void;
  /** Column types fixed by an earlier file of the same source (all files share one schema). */
  types?: FixedCsvTypes;
  /** Told the column types once they are fixed. */
  onTypes?: (types: FixedCsvTypes) => void;
  /** Told why each column got its type, when this file's rows fixed them (`inspect`). */
  onInference?: (inference: CsvInference) => void;
  /** Each chunk owns its text until its `recycle()` (a consumer that holds chunks: RowChunker's `ownChunks`). */
  ownChunks?: boolean;
  /**
   * Rows of this file's first chunk, when the types are already fixed (a later file): what
   * the row group an earlier file began still needs (openCsvChunks' `alignAcrossFiles`).
   */
  firstChunkRows?: number;
  /**
   * `source.onError` other than `fail`: a row whose value does not fit its type, or that is not
   * UTF-8, is taken out and told here instead of failing the read (csv/salvage.ts).
   */
  onBadRow?: (bad: BadRow) => void;
}

/** A source's column types, and the text rules every later row is held to (csv/strict.ts). */
export interface FixedCsvTypes {
  types: Record<string, CsvType>;
  rules: Record<string, TextRule>;
  /** "the first 10000 rows of a.csv (lines 2–10001)" */
  inferredFrom: string;
}

/** How the first rows of a file fixed its column types. */
export interface CsvInference {
  file: string;
  /** Rows the types were inferred from. */
  rows: number;
  /** Physical line of the first of them. */
  firstLine: number;
  columns: { name: string; type: CsvType; inferred: ColumnInference; overridden: boolean; line?: number; againstLine?: number }[];
}

export async function* readCsv(o: CsvReadOptions): AsyncGenerator<BatchWithLease> {
  const batchRows = o.cfg.batchRows;
  const onBad = o.onBadRow;
  for await (const chunk of readCsvChunks(o, batchRows)) yield* polarsToBatches(onBad ? parseSalvaging(chunk, onBad) : parseChunk(chunk, chunk.parse), batchRows);
}

/**
 * The file as chunks of `rowsPerChunk` whole rows (the first one big enough to infer the
 * types from; fewer where rows are wide, see CSV_MAX_CHUNK_BYTES), each checked for field
 * counts and UTF-8. An empty file gives none; a file with a header and no rows gives one
 * chunk of 0 rows, which carries the columns.
 */
export async function* readCsvChunks(o: CsvReadOptions, rowsPerChunk: number): AsyncGenerator<CsvChunk> {
  const bytes = readBytes(o.file, o.readSize, o.onBytes);
  try {
    yield* chunksOf(o, bytes, rowsPerChunk);
  } finally {
    // Ends the read (closes the file) however this stops: the end, an error, an empty file.
    await bytes.return(undefined);
  }
}

/**
 * The column names the reader gives `o.file` (its header row, as chunksOf reads it), without
 * reading a row: what `run`'s column checks need. Undefined for an empty file.
 */
export async function readCsvColumns(o: CsvReadOptions): Promise<string[] | undefined> {
  const bytes = readBytes(o.file, o.readSize);
  try {
    return (await readHeader(withLineOnError(bytes, () => 1), headerOptions(o)))?.names;
  } finally {
    await bytes.return(undefined);
  }
}

function headerOptions({ cfg, file }: CsvReadOptions): HeaderOptions {
  const { delimiter = CSV_DELIMITER, quote = CSV_QUOTE, header = CSV_HEADER, maxRowBytes = MAX_ROW_BYTES } = cfg;
  return { file, delimiter, quote, hasHeader: header, maxRowBytes };
}

async function* chunksOf(o: CsvReadOptions, bytes: AsyncGenerator<Buffer>, rowsPerChunk: number): AsyncGenerator<CsvChunk> {
  const { cfg, file } = o;
  const headerOpts = headerOptions(o);
  const { delimiter, quote, maxRowBytes } = headerOpts;
  let lineNow = () => 1;
  const text = withLineOnError(bytes, () => lineNow());
  const header = await readHeader(text, headerOpts);
  if (!header) return; // an empty file: no columns, no rows
  const names = header.names;
  const selected = cfg.columns ?? names;
  assertColumnsExist(file, names, cfg);

  const inferRows = cfg.inferRows ?? CSV_INFER_ROWS;
  // Every chunk is parsed with this header line in front: names of our own (see CsvParse.fields).
  const internal = names.map((_, i) => `c${i}`);
  const position = new Map(names.map((n, i) => [n, i])); // indexOf per column was quadratic in the width
  const fields = selected.map((c) => internal[position.get(c)!]);
  const prefix = Buffer.from(internal.map((n) => csvQuote(n, delimiter, quote)).join(delimiter) + '\n');
  const chunker = new RowChunker({
    file,
    rowsPerChunk: o.types && o.firstChunkRows ? o.firstChunkRows : Math.ceil(inferRows / rowsPerChunk) * rowsPerChunk,
    fields: names.length,
    delimiter: delimiter.charCodeAt(0),
    quote: quote.charCodeAt(0),
    firstLine: header.nextLine,
    prefix,
    maxChunkBytes: CSV_MAX_CHUNK_BYTES,
    minRows: o.types ? 1 : inferRows,
    maxRowBytes,
    columns: names,
    ownChunks: o.ownChunks,
    keepRagged: o.onBadRow !== undefined,
    // A row over maxRowBytes is taken out too, its first bytes kept as its text.
    ...(o.onBadRow && { onLongRow: longRowTo(o.onBadRow, file, maxRowBytes) }),
  });
  const base = { hasHeader: true, sep: delimiter, quoteChar: quote, nullValues: cfg.nullValues, ignoreErrors: false } as const;
  let fixedTypes: FixedCsvTypes | undefined = o.types;
  let check = fixedTypes && textCheck(names, selected, fixedTypes.rules, fixedTypes.inferredFrom, cfg.nullValues);

  const prepare = (chunk: RowChunk): CsvChunk => {
    // With onBadRow, rows of invalid UTF-8 are found (and taken out) where the chunk is parsed.
    if (!o.onBadRow) checkUtf8(chunk, file);
    let text: ChunkText = { text: chunk.text, prefixLength: prefix.length, rows: chunk.rows, firstLine: chunk.firstLine };
    if (chunk.skippedLines) text.skippedLines = chunk.skippedLines;
    // Ragged rows kept by the chunker (onBadRow) go before anything reads the chunk: the inference too.
    if (chunk.ragged && o.onBadRow) text = cutRagged(text, chunk.ragged, file, names.length, quote, o.onBadRow);
    if (!fixedTypes) {
      let explained: ColumnInference[];
      let firsts: (string | undefined)[];
      let nonFinite: boolean[];
      try {
        // polars refuses a chunk with invalid UTF-8 whole: with onBadRow, those rows are left out
        // of the inference here, and taken out (and told) where the chunk is parsed.
        const sample = o.onBadRow ? withoutInvalidUtf8(text, quote) : text;
        ({ explained, firsts, nonFinite } = inferTypes(sample.text, base, names, inferRows));
      } catch (err) {
        // polars refuses a malformed chunk whole; say where and what, as the parse does.
        const stray = textAfterQuote(text, delimiter, quote);
        if (stray) throw strayQuoteError(text, file, quote, stray, names[stray.field] ?? `#${stray.field + 1}`, err);
        throw new SourceError(`cannot read rows from line ${chunk.firstLine} on: ${(err as Error).message.split('\n')[0]}`, { file, line: chunk.firstLine }, err);
      }
      const sampled = Math.min(inferRows, chunk.rows);
      const lines = rowLines(text, quote.charCodeAt(0), sampled);
      const fixed: FixedCsvTypes = (fixedTypes = {
        types: {},
        rules: {},
        inferredFrom: `the first ${sampled} rows of ${file} (lines ${lines[0]}–${lines[lines.length - 1]})`,
      });
      names.forEach((name, i) => {
        const declared = cfg.schema?.[name];
        const type = declared ?? explained[i].type;
        const shape = !declared && firsts[i] !== undefined && /^(date|time|datetime)/.test(type) ? datetimeShape(firsts[i]) : undefined;
        fixed.types[name] = type;
        fixed.rules[name] = { type, origin: declared ? 'declared' : 'inferred', ...(shape !== undefined && { shape }), ...(!declared && nonFinite[i] && { nonFinite: true }) };
      });
      check = textCheck(names, selected, fixed.rules, fixed.inferredFrom, cfg.nullValues);
      o.onTypes?.(fixed);
      if (o.onInference) o.onInference(describeInference(lines, text, file, names, explained, cfg.schema, sampled));
    }
    const parse = { file, base, columns: selected, fields, types: fixedTypes.types, ...(check && { check }) };
    const prepared: CsvChunk = { ...text, parse };
    if (chunk.recycle) prepared.recycle = chunk.recycle;
    return prepared;
  };

  let any = false;
  lineNow = () => chunker.line;
  for await (const data of prepend(header.rest, text)) {
    for (const chunk of chunker.push(data)) {
      any = true;
      yield prepare(chunk);
      chunker.setRowsPerChunk(rowsPerChunk);
    }
  }
  const last = chunker.end();
  if (last) {
    any = true;
    yield prepare(last);
  }
  if (!any) {
    // Header only: the columns, with the types an earlier file fixed, else declared, else text.
    const fixed = fixedTypes?.types ?? Object.fromEntries(selected.map((c) => [c, cfg.schema?.[c] ?? 'utf8']));
    yield { text: prefix, prefixLength: prefix.length, rows: 0, firstLine: header.nextLine, parse: { file, base, columns: selected, fields, types: fixed } };
  }
}

async function* prepend(first: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}

/**
 * Each column's type and why, its first value, and whether it held NaN or an infinity, from the
 * first `rows` rows of the chunk (as text: nothing is typed yet).
 */
function inferTypes(text: Buffer, base: object, names: string[], rows: number): { explained: ColumnInference[]; firsts: (string | undefined)[]; nonFinite: boolean[] } {
  const sample = polars().readCSV(text, { ...base, inferSchemaLength: 0, nRows: rows });
  // Row arrays in one call, read column by column: polars' getColumn(name) lists every column
  // per call and each Series is a heavy object (10 000 columns took 40 s).
  const table = sample.rows() as (string | null)[][];
  return {
    explained: names.map((_, i) => explainColumn(column(table, i))),
    firsts: names.map((_, i) => table.find((row) => row[i] !== null)?.[i] ?? undefined),
    nonFinite: names.map((_, i) => table.some((row) => row[i] !== null && NON_FINITE.test(row[i]!))),
  };
}

function describeInference(lines: number[], chunk: ChunkText, file: string, names: string[], explained: ColumnInference[], overrides: Record<string, ColumnTypeName> = {}, rows: number): CsvInference {
  return {
    file,
    rows,
    firstLine: chunk.firstLine,
    columns: names.map((name, i) => {
      const inferred = explained[i];
      const at = inferred.decided;
      return {
        name,
        type: overrides[name] ?? inferred.type,
        inferred,
        overridden: overrides[name] !== undefined,
        ...(at && { line: lines[at.index] }),
        ...(at?.against && { againstLine: lines[at.against.index] }),
      };
    }),
  };
}

function* column(rows: (string | null)[][], i: number): Generator<string | null> {
  for (const row of rows) yield row[i];
}

function checkUtf8(chunk: RowChunk, file: string): void {
  if (isUtf8(chunk.bytes)) return;
  let line = chunk.firstLine;
  let start = 0;
  for (let i = 0; i <= chunk.bytes.length; i++) {
    if (i === chunk.bytes.length || chunk.bytes[i] === 10) {
      const text = chunk.bytes.subarray(start, i);
      if (!isUtf8(text)) throw invalidUtf8(file, physicalLine(line, chunk.skippedLines), text);
      line++;
      start = i + 1;
    }
  }
}

function csvQuote(value: string, delimiter: string, quote: string): string {
  return value.includes(delimiter) || value.includes(quote) || /[\r\n]/.test(value) ? quote + value.split(quote).join(quote + quote) + quote : value;
}

/** An over-long row as a bad row: its line, the limit and its first LONG_ROW_HEAD bytes (said in the reason). */
function longRowTo(onBad: (bad: BadRow) => void, file: string, maxRowBytes: number): (line: number, head: Buffer) => void {
  return (line, head) => onBad({ file, line, reason: `row longer than ${maxRowBytes} bytes (source.maxRowBytes); raw holds its first ${LONG_ROW_HEAD} bytes only`, raw: head.toString('utf8'), values: {} });
}
