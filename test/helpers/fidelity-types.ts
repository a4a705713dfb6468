/**
 * The type-fidelity batch: every type of arrow-types.ts plus the ones text sinks got wrong —
 * decimals (negative, 38 digits), timestamps of every unit with and without a zone (sub-ms
 * parts, before 1970, before year 1000), time32/time64, dates before year 1000, durations,
 * intervals, float specials, a dictionary of decimals, lists of timestamps and decimals, and
 * odd column names. Values are built from their raw integers (never through a Date).
 */
import {
  Decimal, Dictionary, DurationMicrosecond, DurationSecond, Field, Float64, Int32, IntervalMonthDayNano, List, Table,
  RecordBatch, TimeMicrosecond, TimeMillisecond, TimeNanosecond, TimeSecond, TimestampMicrosecond, TimestampMillisecond,
  TimestampNanosecond, TimestampSecond, DateDay, Utf8, makeData, makeVector, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import { allTypesBatch } from './arrow-types';

export const ROWS = 7;
/** Row 1 is null in every column (as in arrow-types.ts, where every third row from 1 is). */
const NULL_ROWS = new Set([1, 4]);

function validity(values: unknown[]): Uint8Array {
  const bits = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => v !== null && (bits[i >> 3] |= 1 << (i & 7)));
  return bits;
}

/** A fixed-width column from raw integers (null where `null`). */
function raw<T extends DataType>(type: T, values: (number | bigint | null)[], Array: { from(v: ArrayLike<number | bigint>): ArrayLike<unknown> }): Vector {
  const filled = values.map((v) => v ?? (typeof values.find((x) => x !== null) === 'bigint' ? 0n : 0));
  const nullCount = values.filter((v) => v === null).length;
  return makeVector(makeData({ type, length: values.length, nullCount, nullBitmap: validity(values), data: Array.from(filled) } as never));
}

/** Nulls at the usual rows; the listed values fill the others in order. */
function rows<T>(values: T[]): (T | null)[] {
  let k = 0;
  return Array.from({ length: ROWS }, (_, i) => (NULL_ROWS.has(i) ? null : values[k++ % values.length]));
}

/** A 128-bit decimal column from unscaled integers (little-endian 32-bit words, two's complement). */
function decimal(precision: number, scale: number, unscaled: (bigint | null)[]): Vector {
  const words = new Uint32Array(unscaled.length * 4);
  unscaled.forEach((v, i) => {
    let x = BigInt.asUintN(128, v ?? 0n);
    for (let k = 0; k < 4; k++, x >>= 32n) words[i * 4 + k] = Number(x & 0xffffffffn);
  });
  const type = new Decimal(scale, precision, 128);
  return makeVector(makeData({ type, length: unscaled.length, nullCount: unscaled.filter((v) => v === null).length, nullBitmap: validity(unscaled), data: words }));
}

const US = 1_795_515_072_123_456n; // 2026-11-24T10:11:12.123456
const BEFORE_1970 = -1_000_001n; // 1969-12-31T23:59:58.999999 (µs)
const YEAR_999 = -354_286n * 86_400_000_000n + 1n; // 0999-12-31T00:00:00.000001 (µs)
const BIG = 12345678901234567890123456789012345678n; // 38 digits

/** Instants in `unit`: after 1970 with sub-ms digits, just before 1970, before year 1000 (ns cannot reach it: 1900). */
function instants(unit: 's' | 'ms' | 'us' | 'ns'): (bigint | null)[] {
  if (unit === 'ns') return rows([US * 1000n + 789n, BEFORE_1970 * 1000n - 1n, -2_208_988_800_000_000_000n + 123_456_789n]);
  const per = { s: 1n, ms: 1_000n, us: 1_000_000n }[unit];
  return rows([US, BEFORE_1970, YEAR_999]).map((v) => (v === null ? null : floorDiv(v * per, 1_000_000n)));
}
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function extraColumns(): Record<string, Vector> {
  const ts = (type: DataType, unit: 's' | 'ms' | 'us' | 'ns') => raw(type, instants(unit), BigInt64Array);
  const decimals = decimal(4, 2, rows([125n, -5n, 9999n, -9999n, 0n]));
  return {
    dec_4_2: decimals,
    dec_38_10: decimal(38, 10, rows([BIG, -BIG, 1n, -1n, 0n])),
    dec_18_0: decimal(18, 0, rows([999_999_999_999_999_999n, -1n, 0n])),
    ts_s: ts(new TimestampSecond(), 's'),
    ts_s_utc: ts(new TimestampSecond('UTC'), 's'),
    ts_ms: ts(new TimestampMillisecond(), 'ms'),
    ts_ms_utc: ts(new TimestampMillisecond('UTC'), 'ms'),
    ts_us: ts(new TimestampMicrosecond(), 'us'),
    ts_us_utc: ts(new TimestampMicrosecond('UTC'), 'us'),
    ts_ns: ts(new TimestampNanosecond(), 'ns'),
    ts_ns_utc: ts(new TimestampNanosecond('UTC'), 'ns'),
    time32_s: raw(new TimeSecond(), rows([0, 36_672, 86_399]), Int32Array),
    time32_ms: raw(new TimeMillisecond(), rows([36_672_123, 86_399_999]), Int32Array),
    time64_us: raw(new TimeMicrosecond(), rows([36_672_123_456n, 1n]), BigInt64Array),
    time64_ns: raw(new TimeNanosecond(), rows([36_672_123_456_789n, 1n]), BigInt64Array),
    date32_old: raw(new DateDay(), rows([-354_286, -719_162, -1, 0]), Int32Array), // 0999-12-31, 0001-01-01, 1969-12-31, 1970-01-01
    duration_us: raw(new DurationMicrosecond(), rows([1_500_000n, -1n, 90_061_000_001n]), BigInt64Array),
    duration_s: raw(new DurationSecond(), rows([0n, -90_061n]), BigInt64Array),
    interval_mdn: intervals(),
    float_special: vectorFromArray(rows([1.5, Number.NaN, Infinity, -Infinity, -0]), new Float64()),
    float_whole: vectorFromArray(rows([1, -2, 1e21]), new Float64()),
    dict_decimal: dictionaryOf(decimals),
    list_ts_us: listOf(ts(new TimestampMicrosecond('UTC'), 'us')),
    list_decimal: listOf(decimals),
    '': vectorFromArray(rows(['empty name']), new Utf8()),
    null: vectorFromArray(rows(['named null']), new Utf8()),
    'odd, "name"': vectorFromArray(rows([1, 2]), new Int32()),
  };
}

function intervals(): Vector {
  const values = rows([[1, 2, 3_000_000_001n], [-1, 0, -1n]]);
  const words = new Int32Array(ROWS * 4);
  values.forEach((v, i) => {
    if (!v) return;
    const [m, d, ns] = v as [number, number, bigint];
    words.set([m, d, Number(BigInt.asIntN(32, ns)), Number(BigInt.asIntN(32, ns >> 32n))], i * 4);
  });
  return makeVector(makeData({ type: new IntervalMonthDayNano(), length: ROWS, nullCount: NULL_ROWS.size, nullBitmap: validity(values), data: words }));
}

/** Row i of the dictionary column is value (i mod 3) of `values` (its non-null rows are 0, 2, 3). */
function dictionaryOf(values: Vector): Vector {
  const indices = rows([0, 2, 3]);
  const type = new Dictionary(values.type, new Int32());
  return makeVector(makeData({ type, length: ROWS, nullCount: NULL_ROWS.size, nullBitmap: validity(indices), data: Int32Array.from(indices.map((v) => v ?? 0)), dictionary: values }));
}

/** Lists over the values of `child` (its nulls included): rows of 2, null, 2, 1, null, 1, 1 items. */
function listOf(child: Vector): Vector {
  const valueOffsets = Int32Array.of(0, 2, 2, 4, 5, 5, 6, 7);
  const type = new List(new Field('item', child.type, true));
  return makeVector(makeData({ type, length: ROWS, nullCount: NULL_ROWS.size, nullBitmap: validity(rows([true])), valueOffsets, child: child.data[0] }));
}

/** Columns that no Parquet writer here can take (polars aborts on intervals). */
export const TEXT_AND_ARROW_ONLY = new Set(['interval_mdn']);

export function fidelityBatch(): RecordBatch {
  const base = allTypesBatch(ROWS);
  const columns: Record<string, Vector> = {};
  for (const f of base.schema.fields) columns[f.name] = base.getChild(f.name)!;
  Object.assign(columns, extraColumns());
  return new Table(columns).batches[0];
}
