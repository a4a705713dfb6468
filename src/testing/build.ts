/**
 * Batches from plain rows or columns, for fixtures. Types follow what a CSV source would give
 * a stage (integers as Int64, fractions as Float64, text as Utf8, true/false as Bool), so a
 * stage is tested on the batches it meets in a run; declare a column's type to choose another
 * (the names of a source's `schema`: `{ day: 'date', id: 'int32' }`).
 */
import {
  Bool, DateDay, Float32, Float64, Int16, Int32, Int64, Int8, RecordBatch, Table, TimestampMillisecond, Uint16, Uint32, Uint64, Uint8, Utf8,
  DataType, vectorFromArray, type Int, type Vector,
} from 'apache-arrow';
import type { ColumnTypeName } from '../config/types';

export type Row = Record<string, unknown>;
export type ColumnTypes = Record<string, ColumnTypeName | DataType>;

const BY_NAME: Record<ColumnTypeName, () => DataType> = {
  utf8: () => new Utf8(),
  bool: () => new Bool(),
  int8: () => new Int8(),
  int16: () => new Int16(),
  int32: () => new Int32(),
  int64: () => new Int64(),
  uint8: () => new Uint8(),
  uint16: () => new Uint16(),
  uint32: () => new Uint32(),
  uint64: () => new Uint64(),
  float32: () => new Float32(),
  float64: () => new Float64(),
  date: () => new DateDay(),
  datetime: () => new TimestampMillisecond(),
  timestamp: () => new TimestampMillisecond(),
};

export const COLUMN_TYPE_NAMES = Object.keys(BY_NAME) as ColumnTypeName[];

/** One record batch from rows; columns in order of first appearance, a missing key is null. */
export function batchFromRows(rows: readonly Row[], types: ColumnTypes = {}): RecordBatch {
  if (!Array.isArray(rows)) throw new TypeError(`batchFromRows: rows must be an array of objects (got ${typeof rows})`);
  const seen = new Set<string>(); // insertion order: columns in order of first appearance
  rows.forEach((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new TypeError(`batchFromRows: row ${i} is not an object (got ${JSON.stringify(row)})`);
    for (const key of Object.keys(row)) seen.add(key);
  });
  for (const name of Object.keys(types)) seen.add(name);
  const names = [...seen];
  const columns: Record<string, unknown[]> = {};
  for (const name of names) columns[name] = rows.map((r) => r[name] ?? null);
  return batchFromColumns(columns, types);
}

/** One record batch from columns of equal length: `{ id: [1, 2], name: ['a', 'b'] }`. */
export function batchFromColumns(columns: Record<string, readonly unknown[]>, types: ColumnTypes = {}): RecordBatch {
  const entries = Object.entries(columns);
  const lengths = new Set(entries.map(([, v]) => v.length));
  if (lengths.size > 1) throw new TypeError(`batchFromColumns: columns differ in length (${entries.map(([k, v]) => `${k}: ${v.length}`).join(', ')})`);
  const vectors: Record<string, Vector> = {};
  for (const [name, values] of entries) {
    const type = resolveType(name, types[name], values);
    try {
      vectors[name] = vectorFromArray(values.map((v) => toArrowValue(v, type)) as never, type);
    } catch (err) {
      throw new TypeError(`column "${name}": cannot build ${String(type)} from ${JSON.stringify(values, jsonSafe)}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (entries.length === 0) return new RecordBatch({});
  return new Table(vectors).batches[0] ?? new RecordBatch({});
}

function resolveType(column: string, declared: ColumnTypeName | DataType | undefined, values: readonly unknown[]): DataType {
  if (typeof declared === 'string') {
    const make = BY_NAME[declared];
    if (!make) throw new TypeError(`column "${column}": unknown type "${declared}"; one of ${COLUMN_TYPE_NAMES.join(', ')}`);
    return make();
  }
  return declared ?? inferType(column, values);
}

/** The type a CSV source would infer, from JavaScript values. */
function inferType(column: string, values: readonly unknown[]): DataType {
  const kinds = new Set(values.filter((v) => v !== null && v !== undefined).map(kindOf));
  if (kinds.size === 0) return new Utf8(); // all null: like an empty CSV column
  if (kinds.size === 1 || (kinds.size === 2 && kinds.has('int') && kinds.has('float'))) {
    if (kinds.has('float')) return new Float64();
    const [kind] = kinds;
    if (kind === 'int' || kind === 'bigint') return new Int64();
    if (kind === 'string') return new Utf8();
    if (kind === 'boolean') return new Bool();
    if (kind === 'date') return new TimestampMillisecond();
  }
  if (kinds.size === 2 && kinds.has('int') && kinds.has('bigint')) return new Int64();
  throw new TypeError(`column "${column}" mixes ${[...kinds].join(' and ')} values; declare its type (e.g. { ${column}: 'utf8' })`);
}

function kindOf(v: unknown): string {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'int' : 'float';
  if (v instanceof Date) return 'date';
  if (typeof v === 'bigint' || typeof v === 'string' || typeof v === 'boolean') return typeof v;
  return Array.isArray(v) ? 'array' : typeof v;
}

/** Values as apache-arrow's builders take them: bigints for 64-bit ints, Dates (or ISO text) for dates. */
function toArrowValue(v: unknown, type: DataType): unknown {
  if (v === null || v === undefined) return null;
  // Checked by type id, not instanceof: the type may come from the user's copy of apache-arrow.
  if (DataType.isInt(type) && (type as Int).bitWidth === 64) {
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  }
  if ((DataType.isDate(type) || DataType.isTimestamp(type)) && !(v instanceof Date)) {
    const d = typeof v === 'string' || typeof v === 'number' ? new Date(v) : undefined;
    if (!d || Number.isNaN(d.getTime())) throw new TypeError(`${JSON.stringify(v)} is not a date`);
    return d;
  }
  return v;
}

export function jsonSafe(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}
