/**
 * `ctx.table({ day: days, hits: counts })`: a stage's output from plain JS columns, without
 * apache-arrow's per-value builders. `tableFromArrays` turns a JS string array into a
 * Dictionary<Int32, Utf8> through its dictionary builder, which hashes every value (686 ms of a
 * 1 M-row newcomer's stage, measured); here strings become one Utf8 buffer (`buildUtf8`),
 * numbers a Float64Array, typed arrays and vectors are taken as they are.
 */
import { Bool, Float64, Int64, Table, TimestampMillisecond, type Vector, makeVector, vectorFromArray } from 'apache-arrow';
import { LoneSurrogateError, buildUtf8 } from './strings';

type Nullable<T> = T | null | undefined;
type TypedArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** One column: JS values of one kind (nulls allowed), a typed array, or an apache-arrow Vector. */
export type TableColumn =
  | readonly Nullable<string>[]
  | readonly Nullable<number>[]
  | readonly Nullable<boolean>[]
  | readonly Nullable<bigint>[]
  | readonly Nullable<Date>[]
  | TypedArray
  | Vector;

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

const KINDS = ['string', 'number', 'boolean', 'bigint', 'Date'] as const;
type Kind = (typeof KINDS)[number];
const kindOf = (v: unknown): Kind | undefined => (v instanceof Date ? 'Date' : (KINDS as readonly string[]).includes(typeof v) ? (typeof v as Kind) : undefined);

export function buildTable(columns: Record<string, TableColumn>): Table {
  const vectors: Record<string, Vector> = {};
  let rows: { name: string; length: number } | undefined;
  for (const [name, column] of Object.entries(columns)) {
    const vector = toVector(name, column);
    if (rows && vector.length !== rows.length) throw new RangeError(`ctx.table: column "${name}" has ${vector.length} values, column "${rows.name}" ${rows.length}: every column needs one value per row`);
    rows ??= { name, length: vector.length };
    vectors[name] = vector;
  }
  return new Table(vectors);
}

function toVector(name: string, column: TableColumn): Vector {
  if (ArrayBuffer.isView(column)) return makeVector(column as TypedArray) as Vector;
  if (!Array.isArray(column)) {
    if (column && typeof (column as Vector).toArray === 'function' && 'type' in column) return column as Vector;
    throw new TypeError(`ctx.table: column "${name}" is ${describe(column)}; give an array, a typed array or an apache-arrow Vector`);
  }
  const values = column as readonly unknown[];
  let kind: Kind | undefined;
  let nulls = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    const k = kindOf(v);
    if (!k) throw new TypeError(`ctx.table: column "${name}" row ${i} is ${describe(v)}; columns hold strings, numbers, booleans, bigints or Dates (or null)`);
    if (kind === undefined) kind = k;
    else if (k !== kind) throw new TypeError(`ctx.table: column "${name}" mixes ${kind}s and ${k}s (row ${i} is ${describe(v)}); one kind per column`);
    if (k === 'bigint' && ((v as bigint) > INT64_MAX || (v as bigint) < INT64_MIN)) throw new RangeError(`ctx.table: column "${name}" row ${i} is ${describe(v)}, outside Int64 (-2^63 to 2^63 - 1)`);
    if (k === 'Date' && Number.isNaN((v as Date).getTime())) throw new TypeError(`ctx.table: column "${name}" row ${i} is an invalid Date`);
  }
  // apache-arrow's builders take only null as null: undefined became NaN, false, or a throw.
  const nullable = () => (nulls ? values.map((v) => v ?? null) : values);
  switch (kind) {
    case undefined: // empty or all null: a string column of nulls
    case 'string':
      try {
        return buildUtf8(values as readonly Nullable<string>[]) as Vector;
      } catch (err) {
        if (err instanceof LoneSurrogateError) throw new TypeError(`ctx.table: column "${name}" row ${err.index}: ${err.message}`);
        throw err;
      }
    case 'number':
      return (nulls ? vectorFromArray(nullable() as (number | null)[], new Float64()) : makeVector(Float64Array.from(values as number[]))) as Vector;
    case 'boolean':
      return vectorFromArray(nullable() as (boolean | null)[], new Bool()) as Vector;
    case 'bigint':
      return vectorFromArray(nullable() as (bigint | null)[], new Int64()) as Vector;
    case 'Date':
      return vectorFromArray(nullable() as (Date | null)[], new TimestampMillisecond()) as Vector;
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? `an object (${Object.prototype.toString.call(v).slice(8, -1)})` : `a ${typeof v} (${String(v).slice(0, 40)})`;
}
