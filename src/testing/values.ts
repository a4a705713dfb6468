/**
 * Rows of batches as plain JavaScript values, and how an expected value is compared with a
 * value a stage produced. The rules (README, "Testing your stages"):
 * - 64-bit integers come back as bigint; an expected number equals it when it is the same
 *   integer (`3` matches `3n`), so JSON cases need no bigint syntax;
 * - dates and timestamps come back as Date; an expected Date, ISO text (`"2026-11-24"`,
 *   `"2026-11-24T10:00:00Z"`; without a zone read as UTC, as the CSV source does) or epoch
 *   milliseconds equals it when it is the same instant;
 * - anything else compares strictly: `"3"` is not `3`, and NaN equals NaN.
 */
import { DataType, RecordBatch, Table, type Struct, type Type } from 'apache-arrow';
import type { Row } from './build';

/** What the comparisons accept: one batch, several, a Table, or a stage run's result. */
export type BatchesLike = RecordBatch | Table | readonly RecordBatch[] | { readonly batches: readonly RecordBatch[] };

export function batchesOf(input: BatchesLike): RecordBatch[] {
  if (Array.isArray(input)) return [...(input as readonly RecordBatch[])];
  if (Table.isTable(input)) return [...input.batches];
  const batches = (input as { batches?: unknown }).batches;
  if (Array.isArray(batches)) return [...batches];
  return [input as RecordBatch];
}

/** Whether `value` is batches (as opposed to an array of plain rows). */
export function isBatchesLike(value: unknown): value is BatchesLike {
  if (value === null || typeof value !== 'object') return false;
  // apache-arrow's brands (Symbol.for keys) hold across copies of the module, unlike instanceof.
  if (Array.isArray(value)) return value.length > 0 && value.every((v) => RecordBatch.isRecordBatch(v));
  return RecordBatch.isRecordBatch(value) || Table.isTable(value) || Array.isArray((value as { batches?: unknown }).batches);
}

/** Every row of the batches as a plain object (see the rules above for the value types). */
export function rowsOf(input: BatchesLike): Row[] {
  const rows: Row[] = [];
  for (const batch of batchesOf(input)) {
    const fields = batch.schema.fields;
    const columns = fields.map((f) => batch.getChildAt(fields.indexOf(f))!);
    for (let i = 0; i < batch.numRows; i++) {
      const row: Row = {};
      fields.forEach((f, c) => (row[f.name] = plainValue(columns[c].get(i), f.type)));
      rows.push(row);
    }
  }
  return rows;
}

function plainValue(v: unknown, type: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (DataType.isDate(type) || DataType.isTimestamp(type)) return new Date(Number(v));
  if (DataType.isDictionary(type)) return plainValue(v, type.dictionary);
  if (DataType.isList(type) || DataType.isFixedSizeList(type)) {
    const child = type.children[0].type;
    return Array.from(v as Iterable<unknown>, (x) => plainValue(x, child));
  }
  if (DataType.isStruct(type)) {
    const out: Row = {};
    for (const f of (type as Struct).children) out[f.name] = plainValue((v as Record<string, unknown>)[f.name], f.type as DataType<Type>);
    return out;
  }
  if (DataType.isMap(type)) return Object.fromEntries(Array.from(v as Iterable<[unknown, unknown]>));
  return v;
}

const isDate = (v: unknown): v is Date => Object.prototype.toString.call(v) === '[object Date]';
const NAIVE_DATETIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

/** Epoch milliseconds of an expected date value, or undefined when it is not one. */
function instantOf(v: unknown): number | undefined {
  if (isDate(v)) return v.getTime();
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const naive = NAIVE_DATETIME.exec(v);
  const ms = Date.parse(naive ? `${naive[1]}T${naive[2]}Z` : v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether a received value equals the expected one under the rules above. */
export function sameValue(expected: unknown, received: unknown): boolean {
  if (expected === null || expected === undefined || received === null || received === undefined) return (expected ?? null) === (received ?? null);
  if (isDate(received)) return instantOf(expected) === received.getTime();
  if (isDate(expected)) return isDate(received) && received.getTime() === expected.getTime();
  if (typeof received === 'bigint' || typeof expected === 'bigint') return sameInteger(expected, received);
  if (typeof expected === 'number' && typeof received === 'number') return expected === received || (Number.isNaN(expected) && Number.isNaN(received));
  if (ArrayBuffer.isView(expected) || ArrayBuffer.isView(received)) return sameBytes(expected, received);
  if (Array.isArray(expected) || Array.isArray(received)) {
    return Array.isArray(expected) && Array.isArray(received) && expected.length === received.length && expected.every((e, i) => sameValue(e, received[i]));
  }
  if (typeof expected === 'object' && typeof received === 'object') {
    const e = expected as Row;
    const r = received as Row;
    const keys = new Set([...Object.keys(e), ...Object.keys(r)]);
    return [...keys].every((k) => k in e && k in r && sameValue(e[k], r[k]));
  }
  return expected === received;
}

function sameInteger(a: unknown, b: unknown): boolean {
  const big = (v: unknown) => (typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined);
  const x = big(a);
  return x !== undefined && x === big(b);
}

function sameBytes(a: unknown, b: unknown): boolean {
  if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.every((v, i) => v === y[i]);
}

/** A value as the diff shows it: `3n` for bigints, ISO text for dates, strings quoted. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (isDate(v)) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  if (ArrayBuffer.isView(v)) return `<${v.byteLength} bytes>`;
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (typeof v === 'object') return formatRow(v as Row);
  return String(v);
}

export function formatRow(row: Row): string {
  return `{ ${Object.entries(row)
    .map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${formatValue(v)}`)
    .join(', ')} }`;
}
