/**
 * The test kit compares every Arrow type exactly: for each type, two values that differ by the
 * least the type can hold (a nanosecond, one unit past 2^53, 0.01 of a decimal, -0 and 0, one
 * byte, a value nested in a list or struct) are reported as different, by `diffBatches` (batches
 * against batches and against rows) and by `sameValue`, and a value equals its own copy.
 */
import {
  Binary, DateDay, DateMillisecond, Decimal, Dictionary, Field, FixedSizeList, Float32, Float64, Int32, Int64, List, Map_, RecordBatch, Struct, Table,
  TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint64, Utf8, makeData, makeVector, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import { diffBatches, ExactDecimal, ExactTime, rowsOf, sameValue } from 'sluice/testing';

const batch = (v: Vector) => new Table({ v }).batches[0] as RecordBatch;
const raw = (type: DataType, data: ArrayLike<unknown>) => makeVector(makeData({ type, length: 1, data } as never));
const T0 = 1_764_000_000_123n; // ms; ×1000 for µs …
const listOf = (child: Vector, type: DataType) => makeVector(makeData({ type: new List(new Field('item', type, true)), length: 1, valueOffsets: Int32Array.of(0, child.length), child: child.data[0] } as never));
const structOf = (child: Vector, type: DataType) => makeVector(makeData({ type: new Struct([new Field('x', type, true)]), length: 1, children: [child.data[0]] } as never));

// [type, a, b]: a and b differ by the least the type can hold.
const cases: [string, () => Vector, () => Vector][] = [
  ['Int64 beyond 2^53', () => raw(new Int64(), BigInt64Array.of(9007199254740993n)), () => raw(new Int64(), BigInt64Array.of(9007199254740992n))],
  ['Uint64 at the top', () => raw(new Uint64(), BigUint64Array.of(2n ** 64n - 1n)), () => raw(new Uint64(), BigUint64Array.of(2n ** 64n - 2n))],
  ['Timestamp[s]', () => raw(new TimestampSecond(), BigInt64Array.of(1_764_000_000n)), () => raw(new TimestampSecond(), BigInt64Array.of(1_764_000_001n))],
  ['Timestamp[ms]', () => raw(new TimestampMillisecond(), BigInt64Array.of(T0)), () => raw(new TimestampMillisecond(), BigInt64Array.of(T0 + 1n))],
  ['Timestamp[us]', () => raw(new TimestampMicrosecond(), BigInt64Array.of(T0 * 1000n + 456n)), () => raw(new TimestampMicrosecond(), BigInt64Array.of(T0 * 1000n + 457n))],
  ['Timestamp[ns, UTC]', () => raw(new TimestampNanosecond('UTC'), BigInt64Array.of(T0 * 1_000_000n + 456_789n)), () => raw(new TimestampNanosecond('UTC'), BigInt64Array.of(T0 * 1_000_000n + 456_790n))],
  ['Date32', () => raw(new DateDay(), Int32Array.of(20000)), () => raw(new DateDay(), Int32Array.of(20001))],
  ['Date64', () => raw(new DateMillisecond(), BigInt64Array.of(T0)), () => raw(new DateMillisecond(), BigInt64Array.of(T0 + 1n))],
  ['Decimal128(10, 2)', () => raw(new Decimal(2, 10, 128), Uint32Array.of(120, 0, 0, 0)), () => raw(new Decimal(2, 10, 128), Uint32Array.of(121, 0, 0, 0))],
  ['Decimal128 negative, 38 digits', () => raw(new Decimal(2, 38, 128), Uint32Array.of(0xffffffff, 0xffffffff, 0xffffffff, 0x7fffffff)), () => raw(new Decimal(2, 38, 128), Uint32Array.of(0xfffffffe, 0xffffffff, 0xffffffff, 0x7fffffff))],
  ['Float64 -0 and 0', () => raw(new Float64(), Float64Array.of(-0)), () => raw(new Float64(), Float64Array.of(0))],
  ['Float64 one ulp', () => raw(new Float64(), Float64Array.of(0.1)), () => raw(new Float64(), Float64Array.of(0.1 + 2 ** -56))],
  ['Float32 -0 and 0', () => raw(new Float32(), Float32Array.of(-0)), () => raw(new Float32(), Float32Array.of(0))],
  ['Binary', () => vectorFromArray([Uint8Array.of(1, 2)], new Binary()), () => vectorFromArray([Uint8Array.of(1, 3)], new Binary())],
  ['Utf8', () => vectorFromArray(['a'], new Utf8()), () => vectorFromArray(['b'], new Utf8())],
  ['Dictionary<Utf8>', () => vectorFromArray(['red'], new Dictionary(new Utf8(), new Int32())), () => vectorFromArray(['blue'], new Dictionary(new Utf8(), new Int32()))],
  ['List<Timestamp[ns]>', () => listOf(raw(new TimestampNanosecond(), BigInt64Array.of(T0 * 1_000_000n + 1n)), new TimestampNanosecond()), () => listOf(raw(new TimestampNanosecond(), BigInt64Array.of(T0 * 1_000_000n + 2n)), new TimestampNanosecond())],
  ['Struct<Decimal>', () => structOf(raw(new Decimal(3, 10, 128), Uint32Array.of(1, 0, 0, 0)), new Decimal(3, 10, 128)), () => structOf(raw(new Decimal(3, 10, 128), Uint32Array.of(2, 0, 0, 0)), new Decimal(3, 10, 128))],
  ['List<Int64> beyond 2^53', () => listOf(raw(new Int64(), BigInt64Array.of(2n ** 60n + 1n)), new Int64()), () => listOf(raw(new Int64(), BigInt64Array.of(2n ** 60n)), new Int64())],
  ['FixedSizeList<Float64> -0', () => vectorFromArray([[-0, 1]], new FixedSizeList(2, new Field('item', new Float64(), true))), () => vectorFromArray([[0, 1]], new FixedSizeList(2, new Field('item', new Float64(), true)))],
  ['Map<Utf8, Int64>', () => vectorFromArray([new Map([['k', 2n ** 60n + 1n]])], new Map_(new Field('entries', new Struct([new Field('key', new Utf8(), false), new Field('value', new Int64(), true)]), false) as never)), () => vectorFromArray([new Map([['k', 2n ** 60n]])], new Map_(new Field('entries', new Struct([new Field('key', new Utf8(), false), new Field('value', new Int64(), true)]), false) as never))],
];

describe.each(cases)('%s', (_name, a, b) => {
  it('differs from the value next to it: batches against batches, against rows, and sameValue', () => {
    expect(diffBatches(batch(a()), batch(b()))).toMatch(/differs in: v/);
    expect(diffBatches(batch(a()), rowsOf(batch(b())))).toMatch(/differs in: v/);
    expect(sameValue(rowsOf(batch(b()))[0].v, rowsOf(batch(a()))[0].v)).toBe(false);
  });
  it('equals its own copy', () => {
    expect(diffBatches(batch(a()), batch(a()))).toBeUndefined();
    expect(diffBatches(batch(a()), rowsOf(batch(a())))).toBeUndefined();
  });
});

describe('expected values written by hand', () => {
  const us = () => batch(raw(new TimestampMicrosecond(), BigInt64Array.of(1_764_000_000_123_456n)));
  it.each([
    ['2025-11-24T16:00:00.123456Z', true],
    ['2025-11-24T16:00:00.123457Z', false],
    ['2025-11-24T16:00:00.123Z', false], // the ms the old comparison kept
    ['2025-11-24 16:00:00.123456', true], // naive: UTC
    ['2025-11-24T17:00:00.123456+01:00', true],
    [1_764_000_000_123, false], // epoch ms: below the ms is not zero
    [1_764_000_000_123.456, true],
  ])('a µs timestamp against %p → %p', (expected, same) => {
    expect(diffBatches(us(), [{ v: expected }]) === undefined).toBe(same);
  });

  it('shows every digit of a timestamp and decimals as text', () => {
    const [row] = rowsOf(us());
    expect(row.v).toBeInstanceOf(ExactTime);
    expect((row.v as Date).toISOString()).toBe('2025-11-24T16:00:00.123456Z');
    expect(diffBatches(us(), [{ v: '2025-11-24T16:00:00.123457Z' }])).toContain('+ received { v: 2025-11-24T16:00:00.123456Z }');
    const dec = rowsOf(batch(raw(new Decimal(2, 10, 128), Uint32Array.of(0xffffff88, 0xffffffff, 0xffffffff, 0xffffffff))))[0].v;
    expect(dec).toEqual(new ExactDecimal(-120n, 2));
    expect(String(dec)).toBe('-1.20');
  });

  it.each([
    ['1.20', true],
    ['1.2', true],
    [1.2, true],
    ['1.201', false],
    ['1.21', false],
    [120, false],
    [120n, false],
  ])('a decimal 1.20 against %p → %p', (expected, same) => {
    expect(sameValue(expected, new ExactDecimal(120n, 2))).toBe(same);
  });

  it('an integer written beyond 2^53 equals no 64-bit value, and the diff says why', () => {
    const big = batch(raw(new Int64(), BigInt64Array.of(9007199254740992n)));
    // 9007199254740993 in a JSON case reads as 9007199254740992: it must not pass as either.
    const diff = diffBatches(big, [{ v: 9007199254740993 }]);
    expect(diff).toContain('beyond 2^53, not exact: write a bigint');
    expect(diffBatches(big, [{ v: 9007199254740992n }])).toBeUndefined();
    expect(sameValue(2 ** 53 - 1, 2n ** 53n - 1n)).toBe(true);
  });

  it('-0 and 0 differ, NaN equals NaN', () => {
    expect(sameValue(-0, 0)).toBe(false);
    expect(sameValue(0, -0)).toBe(false);
    expect(sameValue(NaN, NaN)).toBe(true);
  });
});
