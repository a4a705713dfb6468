/**
 * A row's values as the dead-letter output's `values` holds them (batch/row-json.ts), for every
 * Arrow type: each value as the NDJSON sink writes it, never through `Vector.get`/`toJSON`
 * (which gave a Decimal(38, 1) holding 50.0 as "500", its unscaled integer). The expected
 * fragments are written by hand from the type's definition (epoch counts from Date.UTC), not
 * from sluice's output; the NDJSON sink's own line for the same batch is checked equal too
 * (the one difference: a 64-bit integer past 2^53 is a string of its digits).
 * Also `rowJson` for a source's salvaged JavaScript values (-0, NaN, ±Infinity, bigints).
 */
import {
  Binary, Bool, DateDay, DateMillisecond, Decimal, Dictionary, DurationMicrosecond, DurationMillisecond, DurationNanosecond, DurationSecond, Field,
  FixedSizeBinary, Float32, Float64, Int32, Int64, List, Map_, Null, Struct, Table, TimeMicrosecond, TimeMillisecond,
  TimeNanosecond, TimeSecond, TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint64, Utf8, makeData,
  makeVector, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import { rowJson, rowJsonOf } from '../../../src/batch/row-json';
import { jsonFormatter } from '../../../src/batch/text-values';
import { valuesOf as ndjsonValuesOf } from '../../../src/io/sources/ndjson-salvage';

/** A validity bitmap: `null` entries are null. */
function bitmap(values: readonly unknown[]): Uint8Array {
  const bits = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v !== null) bits[i >> 3] |= 1 << (i & 7);
  });
  return bits;
}

/** A fixed-width column from raw values (bigints for 64-bit types), nulls kept. */
function raw(type: DataType, values: readonly (number | bigint | null)[], Array: BigInt64ArrayConstructor | BigUint64ArrayConstructor | Int32ArrayConstructor): Vector {
  const data = new Array(values.length) as BigInt64Array & Int32Array;
  values.forEach((v, i) => ((data as unknown as (number | bigint)[])[i] = v ?? (Array === Int32Array ? 0 : 0n)));
  return makeVector(makeData({ type, length: values.length, nullCount: values.filter((v) => v === null).length, nullBitmap: bitmap(values), data } as never));
}

/** A Decimal128 column from unscaled integers (two's complement, four little-endian words each). */
function decimal(scale: number, precision: number, unscaled: readonly (bigint | null)[]): Vector {
  const words = new Uint32Array(unscaled.length * 4);
  unscaled.forEach((v, i) => {
    let u = BigInt.asUintN(128, v ?? 0n);
    for (let k = 0; k < 4; k++, u >>= 32n) words[i * 4 + k] = Number(u & 0xffffffffn);
  });
  return makeVector(makeData({ type: new Decimal(scale, precision, 128), length: unscaled.length, nullCount: unscaled.filter((v) => v === null).length, nullBitmap: bitmap(unscaled), data: words }));
}

const S = BigInt(Date.UTC(2026, 11, 6, 23, 50, 1) / 1000); // 2026-12-06T23:50:01Z in seconds
const DAY = BigInt(Date.UTC(2026, 11, 6) / 86_400_000); // 2026-12-06 in days
const R = 10n ** 38n - 1n; // the largest unscaled Decimal(38, s)
const ts = (type: DataType, perSecond: bigint, frac: bigint) => raw(type, [S * perSecond + frac, -1n, null], BigInt64Array);

/** [name, column, the JSON fragment of each row] */
const cases: [string, () => Vector, string[]][] = [
  ['Decimal(38, 1): 50.0 (the reported value), -0.5', () => decimal(1, 38, [500n, -5n, null]), ['50.0', '-0.5', 'null']],
  ['Decimal(10, 0)', () => decimal(0, 10, [500n, -42n, null]), ['500', '-42', 'null']],
  ['Decimal(12, 2)', () => decimal(2, 12, [12345n, -5n, 0n, null]), ['123.45', '-0.05', '0.00', 'null']],
  ['Decimal(20, 10)', () => decimal(10, 20, [1n, -12345678901n, null]), ['0.0000000001', '-1.2345678901', 'null']],
  ['Decimal(38, 0): ±(10^38 - 1)', () => decimal(0, 38, [R, -R]), ['99999999999999999999999999999999999999', '-99999999999999999999999999999999999999']],
  ['Decimal(38, 10): ±(10^38 - 1)', () => decimal(10, 38, [R, -R]), ['9999999999999999999999999999.9999999999', '-9999999999999999999999999999.9999999999']],
  ['Int64 within and beyond 2^53', () => raw(new Int64(), [2n ** 53n - 1n, 2n ** 53n + 1n, -(2n ** 63n), null], BigInt64Array), ['9007199254740991', '"9007199254740993"', '"-9223372036854775808"', 'null']],
  ['UInt64 beyond 2^63', () => raw(new Uint64(), [2n ** 64n - 1n, 7n], BigUint64Array), ['"18446744073709551615"', '7']],
  ['Timestamp(s)', () => ts(new TimestampSecond(), 1n, 0n), ['"2026-12-06T23:50:01"', '"1969-12-31T23:59:59"', 'null']],
  ['Timestamp(ms)', () => ts(new TimestampMillisecond(), 1000n, 123n), ['"2026-12-06T23:50:01.123"', '"1969-12-31T23:59:59.999"', 'null']],
  ['Timestamp(us)', () => ts(new TimestampMicrosecond(), 1_000_000n, 123456n), ['"2026-12-06T23:50:01.123456"', '"1969-12-31T23:59:59.999999"', 'null']],
  ['Timestamp(ns)', () => ts(new TimestampNanosecond(), 1_000_000_000n, 123456789n), ['"2026-12-06T23:50:01.123456789"', '"1969-12-31T23:59:59.999999999"', 'null']],
  ['Timestamp(s, UTC)', () => ts(new TimestampSecond('UTC'), 1n, 0n), ['"2026-12-06T23:50:01Z"', '"1969-12-31T23:59:59Z"', 'null']],
  ['Timestamp(ms, Europe/Berlin): the UTC instant', () => ts(new TimestampMillisecond('Europe/Berlin'), 1000n, 123n), ['"2026-12-06T23:50:01.123Z"', '"1969-12-31T23:59:59.999Z"', 'null']],
  ['Timestamp(us, UTC)', () => ts(new TimestampMicrosecond('UTC'), 1_000_000n, 123456n), ['"2026-12-06T23:50:01.123456Z"', '"1969-12-31T23:59:59.999999Z"', 'null']],
  ['Timestamp(ns, America/New_York)', () => ts(new TimestampNanosecond('America/New_York'), 1_000_000_000n, 123456789n), ['"2026-12-06T23:50:01.123456789Z"', '"1969-12-31T23:59:59.999999999Z"', 'null']],
  ['Date32', () => raw(new DateDay(), [Number(DAY), -1, null], Int32Array), ['"2026-12-06"', '"1969-12-31"', 'null']],
  ['Date64', () => raw(new DateMillisecond(), [DAY * 86_400_000n, -86_400_000n, null], BigInt64Array), ['"2026-12-06"', '"1969-12-31"', 'null']],
  ['Time32(s)', () => raw(new TimeSecond(), [3661, null], Int32Array), ['"01:01:01"', 'null']],
  ['Time32(ms)', () => raw(new TimeMillisecond(), [3_661_001, null], Int32Array), ['"01:01:01.001"', 'null']],
  ['Time64(us)', () => raw(new TimeMicrosecond(), [86_399_999_999n, null], BigInt64Array), ['"23:59:59.999999"', 'null']],
  ['Time64(ns)', () => raw(new TimeNanosecond(), [3_661_000_000_001n, null], BigInt64Array), ['"01:01:01.000000001"', 'null']],
  ['Duration(s)', () => raw(new DurationSecond(), [90061n, -2n, null], BigInt64Array), ['"PT90061S"', '"-PT2S"', 'null']],
  ['Duration(ms)', () => raw(new DurationMillisecond(), [90_061_500n, -1500n, null], BigInt64Array), ['"PT90061.500S"', '"-PT1.500S"', 'null']],
  ['Duration(us)', () => raw(new DurationMicrosecond(), [1n, null], BigInt64Array), ['"PT0.000001S"', 'null']],
  ['Duration(ns) beyond 2^53', () => raw(new DurationNanosecond(), [2n ** 53n + 1n, null], BigInt64Array), ['"PT9007199.254740993S"', 'null']],
  ['Binary: base64', () => vectorFromArray([Uint8Array.of(0, 1, 2, 255), new Uint8Array(0), null], new Binary()), ['"AAEC/w=="', '""', 'null']],
  ['FixedSizeBinary(2): base64', () => makeVector(makeData({ type: new FixedSizeBinary(2), length: 2, nullCount: 1, nullBitmap: Uint8Array.of(1), data: Uint8Array.of(0xfb, 0xff, 0, 0) })), ['"+/8="', 'null']],
  ['Dictionary<Utf8>', () => vectorFromArray(['red', null, 'blue "x"'], new Dictionary(new Utf8(), new Int32())), ['"red"', 'null', '"blue \\"x\\""']],
  ['Utf8', () => vectorFromArray(['ü\n"q"', '', null], new Utf8()), ['"ü\\n\\"q\\""', '""', 'null']],
  ['Bool', () => vectorFromArray([true, false, null], new Bool()), ['true', 'false', 'null']],
  ['Float64: NaN, ±Infinity, -0, whole, fraction', () => vectorFromArray([NaN, Infinity, -Infinity, -0, 1, 0.1, null], new Float64()), ['"NaN"', '"inf"', '"-inf"', '-0.0', '1.0', '0.1', 'null']],
  ['Float32: its own shortest form', () => vectorFromArray([0.1, NaN, null], new Float32()), ['0.1', '"NaN"', 'null']],
  ['Null', () => vectorFromArray([null, null], new Null()), ['null', 'null']],
  ['List<Int64>: big leaves as strings', () => vectorFromArray([[1n, 2n ** 60n + 1n, null], [], null], new List(new Field('item', new Int64(), true))), ['[1,"1152921504606846977",null]', '[]', 'null']],
  [
    'Struct<Decimal(9, 2), Timestamp(us)>',
    () => {
      const d = decimal(2, 9, [5000n, null]);
      const t = raw(new TimestampMicrosecond(), [S * 1_000_000n, null], BigInt64Array);
      const type = new Struct([new Field('d', d.type, true), new Field('t', t.type, true)]);
      return makeVector(makeData({ type, length: 2, nullCount: 0, children: [d.data[0], t.data[0]] }));
    },
    ['{"d":50.00,"t":"2026-12-06T23:50:01.000000"}', '{"d":null,"t":null}'],
  ],
  [
    'Map<Utf8, Decimal(5, 1)>: an object',
    () => {
      const keys = vectorFromArray(['a', 'b', 'c'], new Utf8());
      const values = decimal(1, 5, [500n, -1n, null]);
      const entries = new Struct([new Field('key', new Utf8(), false), new Field('value', values.type, true)]);
      const entriesData = makeData({ type: entries, length: 3, nullCount: 0, children: [keys.data[0], values.data[0]] });
      const type = new Map_(new Field('entries', entries, false) as never);
      return makeVector(makeData({ type, length: 3, nullCount: 1, nullBitmap: Uint8Array.of(0b011), valueOffsets: Int32Array.of(0, 2, 3, 3), child: entriesData }));
    },
    ['{"a":50.0,"b":-0.1}', '{"c":null}', 'null'],
  ],
];

describe('a row of a batch: each value as the NDJSON sink writes it', () => {
  it.each(cases)('%s', (_name, column, expected) => {
    const vector = column();
    const batch = new Table({ c: vector }).batches[0];
    const json = rowJsonOf(batch);
    expect(expected.map((_e, i) => json(i))).toEqual(expected.map((e) => `{"c":${e}}`));
    // The NDJSON sink's formatter writes the same, but for 64-bit integers past 2^53 (bare digits there).
    const sink = jsonFormatter(vector);
    expect(expected.map((_e, i) => sink(i) ?? 'null')).toEqual(expected.map((e) => e.replace(/"(-?\d{16,})"/g, '$1')));
  });

  it('every column of one row, names quoted as JSON, a chunked column found by row', () => {
    const table = new Table({ 'a "b"': decimal(2, 10, [125n, 250n]), n: raw(new Int64(), [1n, 2n ** 62n], BigInt64Array) });
    const json = rowJsonOf(table.batches[0]);
    expect([json(0), json(1)]).toEqual(['{"a \\"b\\"":1.25,"n":1}', '{"a \\"b\\"":2.50,"n":"4611686018427387904"}']);
    expect(JSON.parse(json(1))).toEqual({ 'a "b"': 2.5, n: '4611686018427387904' });
  });
});

it('a value with no JSON form fails loudly, naming the column (a map holding a key twice)', () => {
  const keys = vectorFromArray(['k', 'k'], new Utf8());
  const values = vectorFromArray([1, 2], new Int32());
  const entries = new Struct([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]);
  const type = new Map_(new Field('entries', entries, false) as never);
  const twice = makeVector(makeData({ type, length: 1, nullCount: 0, valueOffsets: Int32Array.of(0, 2), child: makeData({ type: entries, length: 2, nullCount: 0, children: [keys.data[0], values.data[0]] }) }));
  const json = rowJsonOf(new Table({ ok: vectorFromArray([1], new Int32()), m: twice }).batches[0]);
  expect(() => json(0)).toThrow(/^cannot write the values of a rejected row to the dead-letter output: column "m" \(Map<.*\): map key "k" occurs twice in one value; a JSON object holds each key once$/);
});

describe("a source's salvaged JavaScript values", () => {
  it.each([
    ['bigints within and beyond 2^53', { a: 5n, b: 2n ** 53n + 1n, c: -(2n ** 63n) }, '{"a":5,"b":"9007199254740993","c":"-9223372036854775808"}'],
    ['-0 keeps its sign; NaN and the infinities as the NDJSON sink spells them', { z: -0, n: NaN, p: Infinity, m: -Infinity, x: 1.5 }, '{"z":-0.0,"n":"NaN","p":"inf","m":"-inf","x":1.5}'],
    ['nested arrays and objects, null, strings, booleans', { l: [1, null, 'x', [2n ** 60n]], o: { t: true, s: 'ü"' }, u: null }, '{"l":[1,null,"x",["1152921504606846976"]],"o":{"t":true,"s":"ü\\""},"u":null}'],
    ['empty', {}, '{}'],
  ])('%s', (_name, values, expected) => {
    expect(rowJson(values as Record<string, unknown>)).toBe(expected);
  });

  it('NDJSON salvage: the fields that parsed, -0.0 and 1e999 kept (JSON.stringify wrote 0 and null)', () => {
    expect(rowJson(ndjsonValuesOf('{"z": -0.0, "huge": 1e999, "big": 9007199254740993, "bad": "x"}', 'bad'))).toBe('{"z":-0.0,"huge":"inf","big":"9007199254740993"}');
  });
});
