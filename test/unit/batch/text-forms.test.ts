/** The exact text form of each primitive value (ISO 8601, decimals, floats), edge cases included. */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Field, Int32, Map_, RecordBatch, Schema, Struct, Table, Utf8, makeData, makeVector, vectorFromArray } from 'apache-arrow';
import { openSink } from '../../../src/io/sinks';
import { decimalText, floatText, isoDate, isoDuration, isoInterval, isoTime, isoTimestamp, wordsToBigInt } from '../../../src/batch/text-forms';

const [S, MS, US, NS] = [0, 1, 2, 3];

describe('ISO 8601 forms', () => {
  it.each([
    [0, '1970-01-01'],
    [-1, '1969-12-31'],
    [-354_286, '0999-12-31'],
    [-719_162, '0001-01-01'],
    [-719_528, '0000-01-01'],
    [-719_529, '-0001-12-31'],
    [2_932_897, '+10000-01-01'],
    [11_016, '2000-02-29'],
  ])('day %d is %s', (days, text) => expect(isoDate(days)).toBe(text));

  it.each([
    [1_795_515_072n, S, false, '2026-11-24T10:11:12'],
    [1_795_515_072_123n, MS, true, '2026-11-24T10:11:12.123Z'],
    [1_795_515_072_123_456n, US, false, '2026-11-24T10:11:12.123456'],
    [1_795_515_072_123_456_789n, NS, true, '2026-11-24T10:11:12.123456789Z'],
    [-1n, US, false, '1969-12-31T23:59:59.999999'],
    [-1_000_001n, US, true, '1969-12-31T23:59:58.999999Z'],
    [-354_286n * 86_400_000_000n + 1n, US, false, '0999-12-31T00:00:00.000001'],
    [0n, NS, false, '1970-01-01T00:00:00.000000000'],
  ])('timestamp %p in unit %d (zoned %p) is %s', (value, unit, zoned, text) => expect(isoTimestamp(value, unit, zoned)).toBe(text));

  it.each([
    [0n, S, '00:00:00'],
    [86_399n, S, '23:59:59'],
    [36_672_123n, MS, '10:11:12.123'],
    [36_672_123_456n, US, '10:11:12.123456'],
    [1n, NS, '00:00:00.000000001'],
  ])('time %p in unit %d is %s', (value, unit, text) => expect(isoTime(value, unit)).toBe(text));

  it.each([
    [0n, S, 'PT0S'],
    [-90_061n, S, '-PT90061S'],
    [1_500_000n, US, 'PT1.500000S'],
    [-1n, US, '-PT0.000001S'],
    [1n, NS, 'PT0.000000001S'],
  ])('duration %p in unit %d is %s', (value, unit, text) => expect(isoDuration(value, unit)).toBe(text));

  it('intervals keep months, days and time apart, each with its sign', () => {
    expect(isoInterval(14, 0, 0n)).toBe('P14M0DT0.000000000S');
    expect(isoInterval(-1, 2, -1n)).toBe('P-1M2DT-0.000000001S');
  });
});

describe('decimals', () => {
  it.each([
    [125n, 2, '1.25'],
    [-5n, 2, '-0.05'],
    [120n, 2, '1.20'],
    [0n, 3, '0.000'],
    [7n, 0, '7'],
    [12n, -3, '12000'],
    [-(10n ** 38n - 1n), 10, '-9999999999999999999999999999.9999999999'],
  ])('%p at scale %d is %s', (unscaled, scale, text) => expect(decimalText(unscaled, scale)).toBe(text));

  it('reads two\'s-complement words of 128 and 256 bits', () => {
    const words = (v: bigint, n: number) => Uint32Array.from({ length: n }, (_, k) => Number((BigInt.asUintN(n * 32, v) >> BigInt(32 * k)) & 0xffffffffn));
    for (const v of [0n, 1n, -1n, 10n ** 38n - 1n, -(10n ** 38n) + 1n]) expect(wordsToBigInt(words(v, 4), 0, 4)).toBe(v);
    expect(wordsToBigInt(words(-(10n ** 76n), 8), 0, 8)).toBe(-(10n ** 76n));
  });
});

describe('floats', () => {
  it.each([
    [1, false, '1.0'],
    [-0, false, '-0.0'],
    [0.1 + 0.2, false, '0.30000000000000004'],
    [1e21, false, '1e+21'],
    [Math.fround(0.1), true, '0.1'],
    [Math.fround(16777217), true, '16777216.0'],
    [NaN, false, 'NaN'],
    [Infinity, false, 'inf'],
    [-Infinity, true, '-inf'],
  ])('%p (float32 %p) is %s, and reads back as the same value', (n, single, text) => {
    expect(floatText(n, single)).toBe(text);
    if (Number.isFinite(n)) expect(Object.is(single ? Math.fround(Number(text)) : Number(text), n)).toBe(true);
  });
});

describe('text writers refuse what they cannot hold, and name where', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-text-forms-'));

  it('a map holding one key twice is an error naming the row and column, not a lost entry', async () => {
    const entry = new Struct([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]);
    const keys = vectorFromArray(['j', 'k', 'k'], new Utf8()).data[0];
    const values = vectorFromArray([1, 2, 3], new Int32()).data[0];
    const entries = makeData({ type: entry, length: 3, nullCount: 0, children: [keys, values] });
    const type = new Map_(new Field('entries', entry, false) as never);
    const map = makeVector(makeData({ type, length: 2, nullCount: 0, valueOffsets: Int32Array.of(0, 1, 3), child: entries } as never));
    const sink = await openSink({ format: 'ndjson', path: path.join(dir, 'map.ndjson') });
    await expect(sink.write(new Table({ id: vectorFromArray([1, 2]), m: map }).batches[0], { seq: 0 })).rejects.toThrow(/row 2, column "m".*map key "k" occurs twice/);
    await sink.abort();
  });

  it('columns sharing a name each keep their own values', async () => {
    const a = vectorFromArray([1, 2], new Int32());
    const b = vectorFromArray([3, 4], new Int32());
    const schema = new Schema([new Field('x', new Int32(), true), new Field('x', new Int32(), true)]);
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 2, nullCount: 0, children: [a.data[0], b.data[0]] }));
    const file = path.join(dir, 'dup.csv');
    const sink = await openSink({ format: 'csv', path: file });
    await sink.write(batch, { seq: 0 });
    await sink.commit();
    expect(readFileSync(file, 'utf8')).toBe('x,x\n1,3\n2,4\n');
  });
});
