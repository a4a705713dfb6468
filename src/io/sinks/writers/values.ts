/**
 * Arrow values as text, one formatter per column chosen from its type (not per value).
 * 64-bit integers stay exact (written from BigInt, never through Number); dates are
 * ISO `YYYY-MM-DD`, timestamps ISO 8601 in UTC; binary is base64; nested values are JSON.
 */
import { DataType, type Vector } from 'apache-arrow';

/** A JSON fragment (NDJSON) or CSV text for row `i`; `null` for a null value. */
export type Formatter = (i: number) => string | null;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function isoDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') return plain((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && (value as Iterable<unknown>)[Symbol.iterator]) return [...(value as Iterable<unknown>)].map(plain);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** JSON text with BigInts written as exact integer literals. */
export function toJson(value: unknown): string {
  const placeholders: string[] = [];
  // A token that cannot occur in the data, so the swap back cannot touch a real string.
  const token = `@bigint${Math.random().toString(36).slice(2)}@`;
  const text = JSON.stringify(plain(value), (_k, v) => (typeof v === 'bigint' ? `${token}${placeholders.push(v.toString()) - 1}` : v));
  return placeholders.length ? text.replace(new RegExp(`"${token}(\\d+)"`, 'g'), (_m, i) => placeholders[Number(i)]) : text;
}

/** Text of a value as a CSV field would show it (before quoting). */
export function textFormatter(vector: Vector): Formatter {
  const type = vector.type as DataType;
  const get = (i: number) => vector.get(i) as unknown;
  if (DataType.isDate(type)) return (i) => nullOr(get(i), (v) => isoDate(v instanceof Date ? v.getTime() : Number(v)));
  if (DataType.isTimestamp(type)) return (i) => nullOr(get(i), (v) => new Date(v instanceof Date ? v.getTime() : Number(v)).toISOString());
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isBinaryView(type) || DataType.isFixedSizeBinary(type)) return (i) => nullOr(get(i), (v) => Buffer.from(v as Uint8Array).toString('base64'));
  if (isNested(type)) return (i) => nullOr(get(i), (v) => toJson(v));
  if (DataType.isFloat(type)) return (i) => nullOr(get(i), (v) => formatFloat(Number(v)));
  return (i) => nullOr(get(i), (v) => String(v));
}

/** A JSON fragment for a value (NDJSON). */
export function jsonFormatter(vector: Vector): Formatter {
  const type = vector.type as DataType;
  if (DataType.isInt(type) || DataType.isBool(type)) return (i) => nullOr(vector.get(i), (v) => String(v));
  if (DataType.isFloat(type)) return (i) => nullOr(vector.get(i), (v) => (Number.isFinite(Number(v)) ? String(Number(v)) : 'null'));
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isUtf8View(type) || DataType.isDictionary(type)) return (i) => nullOr(vector.get(i), (v) => toJson(v));
  const text = textFormatter(vector);
  if (isNested(type)) return text;
  return (i) => nullOr(text(i), (v) => JSON.stringify(v));
}

function isNested(type: DataType): boolean {
  return DataType.isList(type) || DataType.isLargeList(type) || DataType.isStruct(type) || DataType.isMap(type) || DataType.isFixedSizeList(type);
}

function nullOr<T>(v: T, f: (v: NonNullable<T>) => string): string | null {
  return v === null || v === undefined ? null : f(v as NonNullable<T>);
}

function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}
