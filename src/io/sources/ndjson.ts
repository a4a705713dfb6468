/**
 * NDJSON, streaming by lines: `batchRows` lines per polars parse (the types inferred from
 * every line of the batch, not polars' first 100); the schema of the first batch is fixed,
 * later batches are cast to it strictly (a value that does not fit is an error) and a field
 * it lacks, top-level or nested, is an error. Every error names the physical line.
 */
import pl, { type DataType } from 'nodejs-polars';
import { MAX_ROW_BYTES } from '../../defaults';
import { SourceError } from '../../errors';
import { polarsToBatches, type BatchWithLease } from './arrow-convert';
import { readBytes, withLineOnError } from './bytes';
import { assertColumnsExist } from './columns';
import { hiveColumns } from './hive';
import { hasPath, newFieldPath } from './ndjson-schema';

export interface NdjsonReadOptions {
  batchRows: number;
  columns?: string[];
  /** Refused when it names a field the file lacks (NDJSON types come from the data). */
  schema?: Record<string, unknown>;
  maxRowBytes?: number;
  readSize?: number;
  onBytes?: (n: number) => void;
}

/** Whole lines waiting to be parsed, and where they start in the file. */
interface Lines {
  bytes: Buffer;
  firstLine: number;
  count: number;
}

export async function* readNdjson(file: string, o: NdjsonReadOptions): AsyncGenerator<BatchWithLease> {
  const maxRowBytes = o.maxRowBytes ?? MAX_ROW_BYTES;
  let schema: { types: Record<string, DataType>; lines: string } | undefined;
  const parse = (lines: Lines): BatchWithLease[] => {
    const last = lines.firstLine + lines.count - 1;
    let df: pl.DataFrame;
    try {
      df = pl.readJSON(lines.bytes, { format: 'lines', inferSchemaLength: lines.count });
    } catch (err) {
      throw locateBadLine(file, lines, err);
    }
    const hive = hiveColumns(file).filter(([key]) => !df.columns.includes(key));
    if (!schema) assertColumnsExist(file, [...df.columns, ...hive.map(([key]) => key)], o, 'NDJSON');
    if (hive.length) df = df.withColumns(...hive.map(([key, value]) => pl.lit(value).cast(pl.Utf8).alias(key)));
    // columns and dtypes are native calls that list every column: read once, not per column.
    const present = new Set(df.columns);
    if (o.columns) df = df.select(...o.columns.filter((c) => present.has(c)));
    if (!schema) {
      const dtypes = df.dtypes;
      schema = { types: Object.fromEntries(df.columns.map((c, i) => [c, dtypes[i]])), lines: `lines ${lines.firstLine}–${last}` };
    }
    else df = conform(df, schema, file, lines);
    return [...polarsToBatches(df, o.batchRows)];
  };

  let pending: Buffer[] = [];
  let count = 0;
  let firstLine = 1;
  let line = 1; // physical line of the next byte
  let lineStart = 0; // where the current line starts in `data` (negative: in an earlier read)
  for await (const data of withLineOnError(readBytes(file, o.readSize, o.onBytes), () => line)) {
    let start = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, nl + 1)) {
      if (nl - lineStart > maxRowBytes) throw tooLong(file, line, maxRowBytes);
      lineStart = nl + 1;
      line++;
      if (++count < o.batchRows) continue;
      pending.push(data.subarray(start, nl + 1));
      yield* parse({ bytes: Buffer.concat(pending), firstLine, count });
      pending = [];
      count = 0;
      firstLine = line;
      start = nl + 1;
    }
    if (data.length - lineStart > maxRowBytes) throw tooLong(file, line, maxRowBytes);
    lineStart -= data.length;
    if (start < data.length) pending.push(Buffer.from(data.subarray(start)));
  }
  const rest = Buffer.concat(pending);
  if (rest.toString('utf8').trim().length > 0) yield* parse({ bytes: rest, firstLine, count: count + (rest[rest.length - 1] === 10 ? 0 : 1) });
}

function tooLong(file: string, line: number, max: number): SourceError {
  return new SourceError(`line longer than ${max} bytes (source.maxRowBytes); raise source.maxRowBytes if records really are this long`, { file, line });
}

/** polars could not parse a batch: find the first line that is not JSON, else name the batch. */
function locateBadLine(file: string, lines: Lines, cause: unknown): SourceError {
  let line = lines.firstLine;
  for (const text of lines.bytes.toString('utf8').split('\n')) {
    if (text.trim() !== '') {
      try {
        JSON.parse(text);
      } catch (err) {
        return new SourceError(`not valid JSON: ${(err as Error).message}`, { file, line }, cause);
      }
    }
    line++;
  }
  const message = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  return new SourceError(`cannot read lines ${lines.firstLine}–${lines.firstLine + lines.count - 1}: ${message}`, { file, line: lines.firstLine }, cause);
}

/** Later batches: the first batch's columns and types, exactly; a field it lacks is an error. */
function conform(df: pl.DataFrame, schema: { types: Record<string, DataType>; lines: string }, file: string, lines: Lines): pl.DataFrame {
  const fixed = schema.types;
  // Each of columns, dtypes and getColumn(name) is a native call that lists every column: read
  // once, not per column (that was quadratic in the width).
  const columns = df.columns;
  const dtypes = df.dtypes;
  const added = columns.find((c) => !(c in fixed)) ?? columns.map((c, i) => newFieldPath(fixed[c], dtypes[i], c)).find((p) => p !== undefined);
  if (added !== undefined) {
    throw new SourceError(
      `field "${added}" is not in the schema fixed by the first batch (${schema.lines}); put a record with every field in the first batch, or raise source.batchRows`,
      { file, line: firstLineWith(lines, added) },
    );
  }
  const series = df.getColumns();
  for (const [i, c] of columns.entries()) {
    const original = series[i];
    const cast = original.cast(fixed[c], false);
    // A strict cast fails where the lenient one makes a null of a value.
    const had = original.isNotNull().toArray();
    const lost = cast.isNull().toArray();
    const row = had.findIndex((h, i) => h && lost[i]);
    if (row >= 0) {
      throw new SourceError(`value does not fit the type ${String(fixed[c]).replace(/^DataType\((.*)\)$/, "$1")} fixed by the first batch (${schema.lines})`, { file, line: lineOfRecord(lines, row), column: c });
    }
  }
  const present = new Set(columns);
  return df.select(...Object.keys(fixed).map((c) => (present.has(c) ? pl.col(c).cast(fixed[c], true) : pl.lit(null).cast(fixed[c]).alias(c))));
}

/** Physical line of the `row`-th record (blank lines hold none). */
function lineOfRecord(lines: Lines, row: number): number {
  let line = lines.firstLine;
  let seen = 0;
  for (const text of lines.bytes.toString('utf8').split('\n')) {
    if (text.trim() !== '' && seen++ === row) return line;
    line++;
  }
  return lines.firstLine;
}

function firstLineWith(lines: Lines, path: string): number {
  return firstLineWhere(lines, (record) => hasPath(record, path)) ?? lines.firstLine;
}

function firstLineWhere(lines: Lines, test: (record: unknown) => boolean): number | undefined {
  let line = lines.firstLine;
  for (const text of lines.bytes.toString('utf8').split('\n')) {
    if (text.trim() !== '' && test(JSON.parse(text))) return line;
    line++;
  }
  return undefined;
}
