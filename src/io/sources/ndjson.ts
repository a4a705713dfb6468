/**
 * NDJSON, streaming by lines: `batchRows` lines per polars parse (the types inferred from
 * every line of the batch, not polars' first 100); the schema of the source's first batch is
 * fixed for every later batch and file, a value its type does not hold exactly is an error
 * (ndjson-strict.ts), and a field it lacks, top-level or nested, is an error. Every error
 * names the physical line.
 */
import { isUtf8 } from 'node:buffer';
import type pl from 'nodejs-polars';
import type { DataType } from 'nodejs-polars';
import { polars } from '../../batch/lazy-polars';
import { MAX_ROW_BYTES } from '../../defaults';
import { isError, SourceError } from '../../errors';
import { undescribable } from '../../batch/polars-types';
import { polarsToBatches, type BatchWithLease } from './arrow-convert';
import { readBytes, withLineOnError } from './bytes';
import { assertColumnsExist } from './columns';
import { hiveColumns } from './hive';
import { hasPath, newFieldPath } from './ndjson-schema';
import { locateUnreadable, type Lines, type NdjsonTypes } from './ndjson-locate';
import { checkBatch } from './ndjson-strict';
import { parseSalvaging, wholeBatch } from './ndjson-salvage';
import type { BadRow } from '../../csv/salvage';

/** The bytes of an over-long line kept in the rejects' `raw` (the line itself may be any size). */
export const LONG_LINE_PREFIX = 1024;

export interface NdjsonReadOptions {
  batchRows: number;
  columns?: string[];
  /** Refused when it names a field the file lacks (NDJSON types come from the data). */
  schema?: Record<string, unknown>;
  maxRowBytes?: number;
  readSize?: number;
  onBytes?: (n: number) => void;
  /** The types an earlier file's first batch fixed (one schema per source); none: this file fixes them. */
  types?: NdjsonTypes;
  /** Told the types once this file's first batch fixed them. */
  onTypes?: (types: NdjsonTypes) => void;
  /**
   * `source.onError` other than `fail`: a line that cannot be read (ndjson-salvage.ts), or is
   * longer than `maxRowBytes` (its first LONG_LINE_PREFIX bytes kept as its text), is told here
   * and left out, not fatal; the reader goes on at the next line.
   */
  onBadRow?: (bad: BadRow) => void;
}

export async function* readNdjson(file: string, o: NdjsonReadOptions): AsyncGenerator<BatchWithLease> {
  const maxRowBytes = o.maxRowBytes ?? MAX_ROW_BYTES;
  let schema = o.types;
  let firstOfFile = true;
  const parse = (lines: Lines): BatchWithLease[] => {
    const last = lines.firstLine + lines.count - 1;
    let df: pl.DataFrame;
    try {
      df = polars().readJSON(lines.bytes, { format: 'lines', inferSchemaLength: lines.count });
      // An integer beyond int64 makes an Int128 column, whose dtype nodejs-polars panics on (its
      // Rust panic text on stderr): found without asking; locateBadLine names the line.
      const odd = undescribable(df);
      if (odd) throw new Error(`column "${odd.path}" was read as ${odd.type}, which nodejs-polars cannot describe`);
    } catch (err) {
      throw locateBadLine(file, lines, err, schema);
    }
    // columns and dtypes are native calls that list every column: read once, not per column.
    const own = df.columns;
    const hive = hiveColumns(file).filter(([key]) => !own.includes(key));
    if (firstOfFile) assertColumnsExist(file, [...own, ...hive.map(([key]) => key)], o, 'NDJSON');
    firstOfFile = false;
    const ownSet = new Set(own);
    if (o.columns) df = df.select(...o.columns.filter((c) => ownSet.has(c)));
    if (schema) assertKnownFields(df, schema, file, lines);
    // values the types do not hold exactly (the file's own columns: hive values are text by rule)
    checkBatch(df, lines, file, schema);
    if (hive.length) df = df.withColumns(...hive.map(([key, value]) => polars().lit(value).cast(polars().Utf8).alias(key)));
    // The config's columns in its order, hive columns among them.
    if (o.columns) {
      const present = new Set([...ownSet, ...hive.map(([key]) => key)]);
      df = df.select(...o.columns.filter((c) => present.has(c)));
    }
    if (!schema) {
      const dtypes = df.dtypes;
      schema = { types: Object.fromEntries(df.columns.map((c, i) => [c, dtypes[i]])), file, lines: `lines ${lines.firstLine}–${last}` };
      o.onTypes?.(schema);
    } else df = conform(df, schema.types);
    return [...polarsToBatches(df, o.batchRows)];
  };

  const onBad = o.onBadRow;
  const read = (lines: Lines) => (onBad ? parseSalvaging(lines, file, parse, onBad) : parse(lines));

  // The batch's bytes so far are `pending` followed by `data` from `start` (one run of bytes).
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let count = 0;
  let firstLine = 1;
  let line = 1; // physical line of the next byte
  let lineStart = 0; // where the current line starts in `data` (negative: in an earlier read)
  // Inside an over-long line being taken out (onBadRow): its bytes are dropped up to its newline,
  // which is kept (a blank line), so the batch's lines keep their physical numbers.
  let skipping = false;
  /** The over-long line being taken out: its line and its first bytes (up to LONG_LINE_PREFIX). */
  let long: { line: number; head: Buffer } | undefined;
  const keepHead = (more: Buffer) => {
    if (long && long.head.length < LONG_LINE_PREFIX) long.head = Buffer.concat([long.head, more.subarray(0, LONG_LINE_PREFIX - long.head.length)]);
  };
  const tellLong = () => {
    if (!long) return;
    onBad!({ file, line: long.line, reason: `line longer than ${maxRowBytes} bytes (source.maxRowBytes); raw holds its first ${LONG_LINE_PREFIX} bytes only`, raw: long.head.toString('utf8'), values: {} });
    long = undefined;
  };
  /** The over-long line that starts at `lineStart` is cut from the batch's bytes (up to `upTo` in `data`), its head kept. */
  const takeOutLong = (data: Buffer, start: number, upTo: number) => {
    const sofar = Buffer.concat([...pending, data.subarray(start, upTo)]);
    const at = pendingBytes + (lineStart - start);
    long = { line, head: Buffer.from(sofar.subarray(at, at + LONG_LINE_PREFIX)) };
    pending = [sofar.subarray(0, at)];
    pendingBytes = at;
  };
  for await (const data of withLineOnError(readBytes(file, o.readSize, o.onBytes), () => line)) {
    let start = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, nl + 1)) {
      if (skipping) {
        keepHead(data.subarray(start, nl));
        tellLong();
        start = nl;
        skipping = false;
      } else if (nl - lineStart > maxRowBytes) {
        if (!onBad) throw tooLong(file, line, maxRowBytes);
        takeOutLong(data, start, nl);
        tellLong();
        start = nl;
      }
      lineStart = nl + 1;
      line++;
      if (++count < o.batchRows) continue;
      pending.push(data.subarray(start, nl + 1));
      yield* read({ bytes: Buffer.concat(pending), firstLine, count });
      pending = [];
      pendingBytes = 0;
      count = 0;
      firstLine = line;
      start = nl + 1;
    }
    if (skipping) {
      keepHead(data.subarray(start));
      start = data.length;
    } else if (data.length - lineStart > maxRowBytes) {
      if (!onBad) throw tooLong(file, line, maxRowBytes);
      takeOutLong(data, start, data.length);
      start = data.length;
      skipping = true;
    }
    lineStart -= data.length;
    if (start < data.length) {
      pending.push(Buffer.from(data.subarray(start)));
      pendingBytes += data.length - start;
    }
  }
  if (skipping) tellLong(); // the file ended inside it
  const rest = Buffer.concat(pending);
  if (rest.toString('utf8').trim().length > 0) yield* read({ bytes: rest, firstLine, count: count + (rest[rest.length - 1] === 10 ? 0 : 1) });
}

function tooLong(file: string, line: number, max: number): SourceError {
  return new SourceError(`line longer than ${max} bytes (source.maxRowBytes); raise source.maxRowBytes if records really are this long`, { file, line });
}

/**
 * polars could not parse a batch: find the first line that is not UTF-8, not JSON, not an
 * object, or a value no type holds, else name the batch (an error of the whole batch).
 */
function locateBadLine(file: string, lines: Lines, cause: unknown, fixed: NdjsonTypes | undefined): SourceError {
  let line = lines.firstLine;
  let start = 0;
  const bytes = lines.bytes;
  while (start < bytes.length) {
    const nl = bytes.indexOf(10, start);
    const end = nl < 0 ? bytes.length : nl;
    const raw = bytes.subarray(start, end);
    const text = raw.toString('utf8');
    if (text.trim() !== '') {
      if (!isUtf8(raw)) {
        const at = badUtf8At(raw);
        return new SourceError(`not valid UTF-8 (byte 0x${raw[at].toString(16).toUpperCase().padStart(2, '0')} at byte ${at + 1} of the line); NDJSON is UTF-8: fix the file's encoding`, { file, line }, cause);
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        return new SourceError(`not valid JSON: ${(err as Error).message}`, { file, line }, cause);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return new SourceError(`is ${Array.isArray(value) ? 'a JSON array' : value === null ? 'null' : `a JSON ${typeof value}`}, not an object: NDJSON has one object per line`, { file, line }, cause);
    }
    line++;
    start = end + 1;
  }
  const located = locateUnreadable(lines, file, fixed);
  if (located) return located;
  const message = isError(cause) ? cause.message.split('\n')[0] : String(cause);
  const whole = new SourceError(`cannot read lines ${lines.firstLine}–${lines.firstLine + lines.count - 1}: ${message}`, { file, line: lines.firstLine }, cause);
  wholeBatch.add(whole);
  return whole;
}

/** Where a line's UTF-8 first goes wrong (byte offset), character by character. */
function badUtf8At(b: Buffer): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0 || i + n > b.length || !isUtf8(b.subarray(i, i + n))) return i;
    i += n;
  }
  return 0;
}

/** A field the fixed schema lacks, at any depth, is an error (polars would drop a nested one when casting). */
function assertKnownFields(df: pl.DataFrame, schema: NdjsonTypes, file: string, lines: Lines): void {
  const fixed = schema.types;
  // Each of columns, dtypes and getColumn(name) is a native call that lists every column: read
  // once, not per column (that was quadratic in the width).
  const columns = df.columns;
  const dtypes = df.dtypes;
  const added = columns.find((c) => !(c in fixed)) ?? columns.map((c, i) => newFieldPath(fixed[c], dtypes[i], c)).find((p) => p !== undefined);
  if (added !== undefined) {
    const from = `the first batch${schema.file === file ? '' : ` of ${schema.file}`} (${schema.lines})`;
    throw new SourceError(`field "${added}" is not in the schema fixed by ${from}; put a record with every field in the first batch, or raise source.batchRows`, {
      file,
      line: firstLineWith(lines, added),
    });
  }
}

/** Later batches: the fixed columns and types (checkBatch found every value held exactly). */
function conform(df: pl.DataFrame, fixed: Record<string, DataType>): pl.DataFrame {
  // (polars cannot cast to Null: such a column is null here too, or checkBatch refused the batch)
  const typed = (e: pl.Expr, type: DataType) => (String(type) === String(polars().Null) ? e : e.cast(type, true));
  const present = new Set(df.columns);
  return df.select(...Object.keys(fixed).map((c) => (present.has(c) ? typed(polars().col(c), fixed[c]) : typed(polars().lit(null), fixed[c]).alias(c))));
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
