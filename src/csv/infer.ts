/**
 * Column types inferred from sampled text values. Inference never loses information:
 * `08123` stays text (leading zeros), integers stay exact up to int64 (beyond: text),
 * anything mixed is text. ISO 8601 dates, times and datetimes (as the text sinks write
 * them) are typed at the precision they show; what polars cannot parse exactly stays text.
 * The same predicates locate a bad value later, and check what `append` adds to a CSV file
 * (in io/, not io/sources/: the sinks use them too).
 */
import type { ColumnTypeName } from '../config/types';

/**
 * A CSV column's type: a config schema name, or one only inference gives (a time of day;
 * datetimes in µs or ns, or in UTC when the text has `Z` or an offset). `datetime` is ms, no zone.
 */
export type CsvType = ColumnTypeName | 'time' | 'datetime[us]' | 'datetime[ns]' | 'datetime[ms, UTC]' | 'datetime[us, UTC]' | 'datetime[ns, UTC]';

const INT = /^-?(0|[1-9]\d*)$/;
/** NaN and the infinities, as the text sinks spell them (the only non-finite floats inference takes). */
export const NON_FINITE = /^(NaN|-?inf)$/;
/** Inference: no leading zeros (`08.5` stays text). */
const FLOAT = /^-?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
/** Parsing an explicitly typed column: what a float parser accepts. */
const LENIENT_FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const SAFE = 2n ** 53n;
/** Four-digit years, or the expanded form with a sign (`-0001`, `+10000`), which polars parses for dates. */
const DATE = /^([+-]\d{4,}|\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
/** As sluice writes them: `T`, 3, 6 or 9 fraction digits, `Z` or an offset. */
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}|\d{6}|\d{9}))?(Z|[+-]\d{2}:\d{2})?$/;
/** Years an int64 of nanoseconds holds whole (1677-09-21 to 2262-04-11); polars wraps others silently. */
const NS_YEARS = [1678, 2261];
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function validDate(y: string, m: string, d: string): boolean {
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(m) - 1, Number(d)); // Date.UTC maps years 0–99 to 1900–1999
  if (Number.isNaN(date.getTime())) return false;
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
}

/** Does `value` (not null) parse exactly as `type`? */
export function fits(type: CsvType, value: string): boolean {
  switch (type) {
    case 'utf8':
      return true;
    case 'bool':
      return /^(true|false)$/i.test(value);
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'uint64': {
      if (!/^[-+]?\d+$/.test(value)) return false;
      const n = BigInt(value);
      const bits = Number(type.replace(/\D/g, ''));
      const signed = !type.startsWith('u');
      const min = signed ? -(2n ** BigInt(bits - 1)) : 0n;
      const max = signed ? 2n ** BigInt(bits - 1) - 1n : 2n ** BigInt(bits) - 1n;
      return n >= min && n <= max;
    }
    case 'float32':
    case 'float64':
      return LENIENT_FLOAT.test(value) || /^[-+]?(inf|infinity|nan)$/i.test(value);
    case 'date': {
      const m = DATE.exec(value);
      return m !== null && validDate(m[1], m[2], m[3]);
    }
    case 'datetime':
    case 'timestamp': {
      const m = DATETIME.exec(value);
      return (m !== null && validDate(m[1], m[2], m[3]) && validClock(m[4], m[5], m[6])) || isoDatetimeType(value) === 'datetime';
    }
    case 'datetime[us]':
    case 'datetime[ns]':
    case 'datetime[ms, UTC]':
    case 'datetime[us, UTC]':
    case 'datetime[ns, UTC]':
      return isoDatetimeType(value) === type;
    case 'time': {
      const m = TIME.exec(value);
      return m !== null && validClock(m[1], m[2], m[3]);
    }
  }
}

function validClock(h: string, m: string, s: string): boolean {
  return Number(h) < 24 && Number(m) < 60 && Number(s) < 60;
}

/** The type of an ISO datetime by its fraction digits and zone (3 digits or none: ms), or undefined (also: ns out of range). */
function isoDatetimeType(value: string): CsvType | undefined {
  const m = ISO_DATETIME.exec(value);
  if (!m || !validDate(m[1], m[2], m[3]) || !validClock(m[4], m[5], m[6])) return undefined;
  const unit = ({ 6: 'us', 9: 'ns' } as Record<number, string>)[m[7]?.length ?? 0] ?? 'ms';
  if (unit === 'ns' && (Number(m[1]) < NS_YEARS[0] || Number(m[1]) > NS_YEARS[1])) return undefined;
  if (m[8]) return `datetime[${unit}, UTC]` as CsvType;
  return unit === 'ms' ? 'datetime' : (`datetime[${unit}]` as CsvType);
}

/** What polars must see of a datetime's text to parse every value of a column alike (separator, digits, zone kind). */
export function datetimeShape(value: string): string {
  return value.replace(/\d/g, '9').replace(/[+-]99:99$/, 'Z');
}

/** A decimal literal as (digits without leading or trailing zeros, power of ten), sign dropped. */
function decimalValue(text: string): [string, number] {
  const m = /^[-+]?(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(text)!;
  const frac = m[2] ?? '';
  let digits = (m[1] + frac).replace(/^0+/, '');
  let exp = Number(m[3] ?? 0) - frac.length;
  const trimmed = digits.replace(/0+$/, '');
  exp += digits.length - trimmed.length;
  digits = trimmed;
  return digits ? [digits, exp] : ['0', 0];
}

/** Does the float64 nearest to this literal print as the same number? (`0.1` yes; 20 significant digits usually not.) */
function exactAsFloat(text: string): boolean {
  if (!Number.isFinite(Number(text))) return false; // 1e400 overflows
  const [d1, e1] = decimalValue(text);
  const [d2, e2] = decimalValue(String(Math.abs(Number(text))));
  return d1 === d2 && e1 === e2;
}

/** Candidates from most to least specific; the first that fits every sampled value wins. */
function candidate(value: string): CsvType {
  if (INT.test(value)) {
    const n = BigInt(value);
    return n >= INT64_MIN && n <= INT64_MAX ? 'int64' : 'utf8';
  }
  // NaN and infinities only as the text sinks spell them, so other text is not taken for a number
  if (FLOAT.test(value)) return exactAsFloat(value) ? 'float64' : 'utf8';
  if (NON_FINITE.test(value)) return 'float64';
  if (/^(true|false)$/i.test(value)) return 'bool';
  if (fits('date', value)) return 'date';
  if (fits('datetime', value)) return 'datetime';
  if (fits('time', value)) return 'time';
  return isoDatetimeType(value) ?? 'utf8';
}

/**
 * Would inference keep `value` in a column it typed `type`? The check of every row after the
 * sampled ones (csv/strict.ts): a datetime must also be written as the sample wrote it (`shape`).
 */
export function isStrictValue(type: CsvType, value: string, shape?: string): boolean {
  const c = candidate(value);
  if (type === 'float64' && c === 'int64') {
    const n = BigInt(value);
    return n <= SAFE && n >= -SAFE;
  }
  if (c !== type) return false;
  return !type.startsWith('datetime') || shape === undefined || datetimeShape(value) === shape;
}

/**
 * Why a column got its type: how many values were sampled, and the value that decided it
 * (the one that made it text, or widened integers to floats), by its index in the sample.
 */
export interface ColumnInference {
  type: CsvType;
  /** Non-null values looked at (all of them, unless a value made the column text early). */
  values: number;
  nulls: number;
  /** The deciding value, when one value decided: `utf8` because of it, or `float64` widened by it. */
  decided?: { index: number; value: string; why: InferenceWhy; against?: { index: number; value: string }; expected?: CsvType };
}

/**
 * `text`: the value is nothing else (a leading zero counts); `too-big`: an integer beyond int64;
 * `inexact`: a number that float64 cannot hold exactly; `mixed`: it does not fit the type of
 * `against` (the first value); `shape`: a datetime written another way than `against`;
 * `unsafe-mix`: integers beyond 2^53 and floats; `widened`: the first non-integer number.
 */
export type InferenceWhy = 'text' | 'too-big' | 'inexact' | 'mixed' | 'shape' | 'unsafe-mix' | 'widened';

/** Infer one column's type from its sampled values (nulls skipped; all-null → utf8). */
export function inferColumn(values: Iterable<string | null>): CsvType {
  return explainColumn(values).type;
}

/** inferColumn, with the reason: the one implementation, so what `inspect` says is what a read does. */
export function explainColumn(values: Iterable<string | null>): ColumnInference {
  let type: CsvType | undefined;
  let unsafeInt = false;
  let shape: string | undefined;
  let first: { index: number; value: string } | undefined;
  let widened: ColumnInference['decided'];
  let count = 0;
  let nulls = 0;
  let index = -1;
  const text = (value: string, why: InferenceWhy, against?: { index: number; value: string }): ColumnInference => ({
    type: 'utf8',
    values: count,
    nulls,
    decided: { index, value, why, ...(against && { against }), ...(type && { expected: type }) },
  });
  for (const v of values) {
    index++;
    if (v === null) {
      nulls++;
      continue;
    }
    count++;
    const c = candidate(v);
    if (c === 'utf8') return text(v, INT.test(v) ? 'too-big' : FLOAT.test(v) ? 'inexact' : type ? 'mixed' : 'text', first);
    if (c.startsWith('datetime')) {
      if (shape !== undefined && shape !== datetimeShape(v)) return text(v, 'shape', first);
      shape = datetimeShape(v);
    }
    if (c === 'int64' && !unsafeInt) {
      const n = BigInt(v);
      unsafeInt = n > SAFE || n < -SAFE;
    }
    if (type === undefined) {
      type = c;
      first = { index, value: v };
    } else if (type !== c) {
      // ints widen to floats when every value is a plain number (1, 2.5); anything else is text
      // (unless an integer beyond 2^53 would lose digits as a float)
      const numbers = (type === 'int64' && c === 'float64') || (type === 'float64' && c === 'int64');
      if (numbers && unsafeInt) return text(v, 'unsafe-mix', first);
      if (!numbers) return text(v, 'mixed', first);
      if (type === 'int64') widened = { index, value: v, why: 'widened', against: first };
      type = 'float64';
    }
  }
  if (type === 'float64' && unsafeInt) return { type: 'utf8', values: count, nulls };
  return { type: type ?? 'utf8', values: count, nulls, ...(widened && { decided: widened }) };
}
