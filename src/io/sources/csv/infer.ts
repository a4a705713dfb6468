/**
 * Column types inferred from sampled text values. Inference never loses information:
 * `08123` stays text (leading zeros), integers stay exact up to int64 (beyond: text),
 * anything mixed is text. The same predicates locate a bad value later.
 */
import type { ColumnTypeName } from '../../../config/types';

const INT = /^-?(0|[1-9]\d*)$/;
/** Inference: no leading zeros (`08.5` stays text). */
const FLOAT = /^-?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
/** Parsing an explicitly typed column: what a float parser accepts. */
const LENIENT_FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const SAFE = 2n ** 53n;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function validDate(y: string, m: string, d: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
}

/** Does `value` (not null) parse exactly as `type`? */
export function fits(type: ColumnTypeName, value: string): boolean {
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
      return m !== null && validDate(m[1], m[2], m[3]) && Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) < 60;
    }
  }
}

/** Candidates from most to least specific; the first that fits every sampled value wins. */
function candidate(value: string): ColumnTypeName {
  if (INT.test(value)) {
    const n = BigInt(value);
    return n >= INT64_MIN && n <= INT64_MAX ? 'int64' : 'utf8';
  }
  if (FLOAT.test(value)) return 'float64';
  if (/^(true|false)$/i.test(value)) return 'bool';
  if (fits('date', value)) return 'date';
  if (fits('datetime', value)) return 'datetime';
  return 'utf8';
}

/** Infer one column's type from its sampled values (nulls skipped; all-null → utf8). */
export function inferColumn(values: Iterable<string | null>): ColumnTypeName {
  let type: ColumnTypeName | undefined;
  let unsafeInt = false;
  for (const v of values) {
    if (v === null) continue;
    const c = candidate(v);
    if (c === 'int64' && !unsafeInt) {
      const n = BigInt(v);
      unsafeInt = n > SAFE || n < -SAFE;
    }
    if (type === undefined) type = c;
    else if (type !== c) {
      // ints widen to floats when every value is a plain number (1, 2.5); anything else is text
      // (unless an integer beyond 2^53 would lose digits as a float)
      if (!unsafeInt && ((type === 'int64' && c === 'float64') || (type === 'float64' && c === 'int64'))) type = 'float64';
      else return 'utf8';
    }
    if (type === 'utf8') return 'utf8';
  }
  if (type === 'float64' && unsafeInt) return 'utf8';
  return type ?? 'utf8';
}
