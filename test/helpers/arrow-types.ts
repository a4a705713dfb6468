/**
 * One record batch holding every Arrow type the engine promises to carry, with nulls,
 * and an equality check that compares types and values exactly (64-bit ints as BigInt).
 */
import {
  Binary, Bool, DateDay, DateMillisecond, Dictionary, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Int8,
  LargeUtf8, List, Map_, Null, RecordBatch, Struct, Table, TimeMillisecond, TimestampMicrosecond, TimestampMillisecond,
  TimestampNanosecond, TimestampSecond, Uint16, Uint32, Uint64, Uint8, Utf8, tableFromIPC, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import pl from 'nodejs-polars';

const n = (rows: number) => Array.from({ length: rows }, (_, i) => i);
const withNulls = <T>(values: T[]): (T | null)[] => values.map((v, i) => (i % 3 === 1 ? null : v));

/** A Utf8View column as polars writes it (apache-arrow builds no views itself). */
function utf8View(rows: number): Vector {
  const values = withNulls(n(rows).map((i) => (i % 2 ? `a longer string than twelve bytes #${i} ✓` : `s${i}`)));
  const table = tableFromIPC(pl.DataFrame({ v: values }).writeIPC());
  return table.getChild('v')!;
}

export function allTypesBatch(rows = 7): RecordBatch {
  const ints = n(rows);
  const big = ints.map((i) => 9007199254740993n + BigInt(i)); // beyond 2^53
  const col = <T extends DataType>(values: unknown[], type: T) => vectorFromArray(values as never, type);
  const columns: Record<string, Vector> = {
    i8: col(withNulls(ints.map((i) => i - 3)), new Int8()),
    i16: col(withNulls(ints.map((i) => i * 300)), new Int16()),
    i32: col(withNulls(ints.map((i) => i * 70000)), new Int32()),
    i64: col(withNulls(big.map((b) => -b)), new Int64()),
    u8: col(withNulls(ints), new Uint8()),
    u16: col(withNulls(ints), new Uint16()),
    u32: col(withNulls(ints.map((i) => 4_000_000_000 + i)), new Uint32()),
    u64: col(withNulls(big), new Uint64()),
    f32: col(withNulls(ints.map((i) => i / 4)), new Float32()),
    f64: col(withNulls(ints.map((i) => i / 3)), new Float64()),
    bool: col(withNulls(ints.map((i) => i % 2 === 0)), new Bool()),
    utf8: col(withNulls(ints.map((i) => `ü-${i},"q"\n`)), new Utf8()),
    large_utf8: col(withNulls(ints.map((i) => `large ${i}`)), new LargeUtf8()),
    utf8_view: utf8View(rows),
    binary: col(withNulls(ints.map((i) => Uint8Array.of(i, 255, 0))), new Binary()),
    date_day: col(withNulls(ints.map((i) => new Date(Date.UTC(2026, 10, 1 + i)))), new DateDay()),
    date_ms: col(withNulls(ints.map((i) => new Date(Date.UTC(2026, 10, 1 + i)))), new DateMillisecond()),
    ts_s: col(withNulls(ints.map((i) => 1_764_000_000_000 + i * 1000)), new TimestampSecond()),
    ts_ms_tz: col(withNulls(ints.map((i) => 1_764_000_000_000 + i)), new TimestampMillisecond('Europe/Berlin')),
    ts_us: col(withNulls(ints.map((i) => 1_764_000_000_000 + i)), new TimestampMicrosecond()),
    ts_ns: col(withNulls(ints.map((i) => 1_764_000_000_000 + i)), new TimestampNanosecond('UTC')),
    time_ms: col(withNulls(ints.map((i) => i * 1000)), new TimeMillisecond()),
    nulls: col(ints.map(() => null), new Null()),
    dict: col(withNulls(ints.map((i) => ['red', 'green', 'blue'][i % 3])), new Dictionary(new Utf8(), new Int32())),
    list: col(withNulls(ints.map((i) => [i, i + 1, null])), new List(new Field('item', new Int32(), true))),
    fixed_list: col(withNulls(ints.map((i) => [i, -i])), new FixedSizeList(2, new Field('item', new Float64(), true))),
    struct: col(withNulls(ints.map((i) => ({ a: i, b: `b${i}` }))), new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)])),
    map: col(withNulls(ints.map((i) => new Map([[`k${i}`, i]]))), new Map_(new Field('entries', new Struct([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]), false) as never)),
  };
  return new Table(columns).batches[0];
}

/** A value as plain JSON-comparable data (64-bit ints as `123n` strings, bytes as arrays, dates as ISO). */
export function normalise(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return [...value];
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) return [...value.entries()].map(([k, v]) => [normalise(k), normalise(v)]);
  if (typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') return normalise((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return [...(value as ArrayLike<unknown> & Iterable<unknown>)].map(normalise);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, normalise(v)]));
  return value;
}

/** Types (recursively, by their string form) and values (row by row) must be equal. */
export function expectBatchesEqual(actual: RecordBatch, expected: RecordBatch): void {
  expect(actual.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(expected.schema.fields.map((f) => `${f.name}: ${f.type}`));
  expect(actual.numRows).toBe(expected.numRows);
  for (const field of expected.schema.fields) {
    const a = actual.getChild(field.name)!;
    const e = expected.getChild(field.name)!;
    const rows = (v: Vector) => Array.from({ length: v.length }, (_, i) => normalise(v.get(i)));
    expect({ column: field.name, values: rows(a) }).toEqual({ column: field.name, values: rows(e) });
  }
}
