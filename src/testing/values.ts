/**
 * Rows of batches as plain JavaScript values, and how an expected value is compared with a
 * value a stage produced. The rules (README, "Testing your stages"):
 * - 64-bit integers come back as bigint; an expected number equals it when it is the same
 *   integer (`3` matches `3n`), so JSON cases need no bigint syntax;
 *   an expected number beyond 2^53 equals none (it is not the integer written: write a bigint);
 * - dates and timestamps come back as Date; an expected Date, ISO text (`"2026-11-24"`,
 *   `"2026-11-24T10:00:00Z"`; without a zone read as UTC, as the CSV source does) or epoch
 *   milliseconds equals it when it is the same instant, to the timestamp's unit (a µs value
 *   is an `ExactTime`, `.123456` in ISO text; a Date or millisecond number matches only a
 *   value with nothing below the millisecond);
 * - decimals come back as `ExactDecimal`; expected text or a number equals it when it is the
 *   same number (`"1.20"`, `"1.2"` and `1.2` all equal 1.20 at scale 2);
 * - anything else compares strictly: `"3"` is not `3`, `-0` is not `0`, and NaN equals NaN.
 */
import { RecordBatch, Table } from 'apache-arrow';
import type { Row } from './build';
import { ExactDecimal, ExactTime, exactValue } from './exact';

export { ExactDecimal, ExactTime } from './exact';

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
    const columns = batch.data.children;
    for (let i = 0; i < batch.numRows; i++) {
      const row: Row = {};
      fields.forEach((f, c) => (row[f.name] = exactValue(columns[c], i)));
      rows.push(row);
    }
  }
  return rows;
}

const isDate = (v: unknown): v is Date => Object.prototype.toString.call(v) === '[object Date]';
const NAIVE_DATETIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

const FRACTION = /(T|\s|^)(\d{2}:\d{2}:\d{2})\.(\d+)/;

/** Epoch nanoseconds of an expected date value, exactly, or undefined when it is not one. */
function instantOf(v: unknown): bigint | undefined {
  if (v instanceof ExactTime) return v.epochNanoseconds;
  if (isDate(v)) return Number.isNaN(v.getTime()) ? undefined : BigInt(v.getTime()) * 1_000_000n;
  if (typeof v === 'number') {
    const ns = decimalOf(String(v), 6);
    return ns && ns.unscaled;
  }
  if (typeof v !== 'string') return undefined;
  // Date.parse keeps milliseconds only: the fraction is read apart, every digit of it.
  let fraction = 0n;
  const text = v.replace(FRACTION, (_, before: string, time: string, digits: string) => {
    if (digits.length > 9 && /[1-9]/.test(digits.slice(9))) fraction = -1n; // below a nanosecond: no timestamp is that
    else fraction = BigInt(digits.slice(0, 9).padEnd(9, '0'));
    return `${before}${time}`;
  });
  if (fraction < 0n) return undefined;
  const naive = NAIVE_DATETIME.exec(text);
  const ms = Date.parse(naive ? `${naive[1]}T${naive[2]}Z` : text);
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n + fraction;
}

/** Decimal text (or a number's shortest text) as an unscaled integer at `scale`, when exact there. */
function decimalOf(text: string, scale: number): ExactDecimal | undefined {
  const m = /^([+-]?)(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text.trim());
  if (!m) return undefined;
  let digits = m[2] + (m[3] ?? '');
  let point = (m[3] ?? '').length - Number(m[4] ?? 0); // digits after the point
  if (point < 0) {
    digits += '0'.repeat(-point);
    point = 0;
  }
  if (point > scale) {
    if (/[1-9]/.test(digits.slice(digits.length - (point - scale)))) return undefined;
    digits = digits.slice(0, digits.length - (point - scale)) || '0';
    point = scale;
  }
  const unscaled = BigInt(digits) * 10n ** BigInt(scale - point);
  return new ExactDecimal(m[1] === '-' ? -unscaled : unscaled, scale);
}

function sameDecimal(expected: unknown, received: ExactDecimal): boolean {
  if (expected instanceof ExactDecimal) {
    const scale = Math.max(expected.scale, received.scale);
    const at = (d: ExactDecimal) => d.unscaled * 10n ** BigInt(scale - d.scale);
    return at(expected) === at(received);
  }
  if (typeof expected !== 'string' && typeof expected !== 'number' && typeof expected !== 'bigint') return false;
  if (typeof expected === 'number' && !Number.isFinite(expected)) return false;
  const e = decimalOf(String(expected), received.scale);
  return e !== undefined && e.unscaled === received.unscaled;
}

/** Whether a received value equals the expected one under the rules above. */
export function sameValue(expected: unknown, received: unknown): boolean {
  if (expected === null || expected === undefined || received === null || received === undefined) return (expected ?? null) === (received ?? null);
  if (isDate(received)) {
    const want = instantOf(expected);
    return want !== undefined && want === instantOf(received);
  }
  if (isDate(expected)) return false; // a Date expected, something else received: the stage gave the wrong type
  if (received instanceof ExactDecimal) return sameDecimal(expected, received);
  if (expected instanceof ExactDecimal) return false;
  if (typeof received === 'bigint' || typeof expected === 'bigint') return sameInteger(expected, received);
  // Exactly: -0 is not 0 (1 / x tells them apart); NaN is NaN.
  if (typeof expected === 'number' && typeof received === 'number') return Object.is(expected, received);
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
  // A number beyond 2^53 is not the integer its text said (9007199254740993 reads as …992): it equals none.
  const big = (v: unknown) => (typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined);
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
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isInteger(v) && !Number.isSafeInteger(v) ? `${v} (beyond 2^53, not exact: write a bigint, e.g. ${BigInt(v)}n)` : String(v);
  if (v instanceof ExactDecimal) return v.toString();
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
