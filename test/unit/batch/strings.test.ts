import { Dictionary, Int16, LargeUtf8, Table, Utf8, tableFromArrays, tableFromIPC, vectorFromArray, type RecordBatch } from 'apache-arrow';
import pl from 'nodejs-polars';
import { LoneSurrogateError, UTF8_LIMITS, buildUtf8, buildUtf8Within, readStrings } from '../../../src/batch/strings';
import { buildTable } from '../../../src/batch/table';

const values = ['', 'a', 'ascii only', 'ünïcödé ✓', '😀 four-byte', 'exactly12byt', 'a string longer than twelve bytes', null, 'x'.repeat(200), null];

function layouts(): Record<string, RecordBatch> {
  return {
    utf8: new Table({ s: vectorFromArray(values, new Utf8()) }).batches[0],
    largeUtf8: new Table({ s: vectorFromArray(values, new LargeUtf8()) }).batches[0],
    utf8View: tableFromIPC(pl.DataFrame({ s: values }).writeIPC()).batches[0],
    polarsLarge: tableFromIPC(pl.DataFrame({ s: values }).writeIPCStream()).batches[0],
    dictionary: new Table({ s: vectorFromArray(values, new Dictionary(new Utf8(), new Int16())) }).batches[0],
  };
}

const expected = (b: RecordBatch) => Array.from({ length: b.numRows }, (_, i) => b.getChild('s')!.get(i) ?? null);

describe('readStrings', () => {
  it.each(Object.keys(layouts()))('equals apache-arrow get() on %s', (name) => {
    const batch = layouts()[name];
    expect(readStrings(batch, 's')).toEqual(values);
    expect(readStrings(batch, 's')).toEqual(expected(batch));
  });

  it.each(Object.keys(layouts()))('handles sliced %s data', (name) => {
    const batch = layouts()[name].slice(3, 9);
    expect(readStrings(batch, 's')).toEqual(values.slice(3, 9));
  });

  it('reads short (inline) views whether ASCII or not, side by side', () => {
    const short = ['é', 'ab', 'ñandú', null, 'z', '12 bytes: ok', '€'];
    const batch = tableFromIPC(pl.DataFrame({ s: short }).writeIPC()).batches[0];
    expect(String(batch.schema.fields[0].type)).toBe('Utf8View');
    expect(readStrings(batch, 's')).toEqual(short);
  });

  it('names a missing or non-string column', () => {
    const batch = tableFromArrays({ n: Int32Array.of(1) }).batches[0];
    expect(() => readStrings(batch, 'zz')).toThrow('no column "zz" in batch (columns: n)');
    expect(() => readStrings(batch, 'n')).toThrow('column "n" is Int32, not a string column');
  });
});

describe('buildUtf8', () => {
  it('builds a Utf8 vector equal to the input, nulls included', () => {
    const v = buildUtf8(values);
    expect(String(v.type)).toBe('Utf8');
    expect(v.toArray()).toEqual(values);
    expect(v.nullCount).toBe(2);
    expect(buildUtf8(['a', 'bc']).nullCount).toBe(0);
  });

  it('builds ASCII values (one encoding for all) with nulls, empties and undefined', () => {
    const v = buildUtf8(['abc', null, '', 'de', undefined, 'f'.repeat(70)]);
    expect(v.toArray()).toEqual(['abc', null, '', 'de', null, 'f'.repeat(70)]);
    expect(v.nullCount).toBe(2);
    expect(Array.from(v.data[0].valueOffsets)).toEqual([0, 3, 3, 3, 5, 5, 75]);
  });

  it('writes value by value what is too long to join into one string, the same values', () => {
    const input = ['ab', null, 'cd', 'é', '', 'xyz'];
    const v = buildUtf8Within(input, { ...UTF8_LIMITS, joinedChars: 4 });
    expect(v.toArray()).toEqual(['ab', null, 'cd', 'é', '', 'xyz']);
    expect(Array.from(v.data[0].valueOffsets)).toEqual([0, 2, 2, 4, 6, 6, 9]);
  });

  it('refuses more bytes than 32-bit offsets reach, instead of wrapping them', () => {
    expect(() => buildUtf8Within(['abc', 'def'], { ...UTF8_LIMITS, bytes: 5 })).toThrow(/2 strings hold more than 5 bytes of UTF-8 \(by value 1\).*emit smaller batches/);
    expect(() => buildUtf8Within(['abc', 'dé'], { joinedChars: 1, bytes: 5 })).toThrow(RangeError); // 6 bytes: 'é' is two
    expect(buildUtf8Within(['abc', 'dé'], { joinedChars: 1, bytes: 6 }).toArray()).toEqual(['abc', 'dé']);
  });

  it('a single non-ASCII value among ASCII ones gets byte offsets', () => {
    const v = buildUtf8(['ab', 'é', 'cd']);
    expect(v.toArray()).toEqual(['ab', 'é', 'cd']);
    expect(Array.from(v.data[0].valueOffsets)).toEqual([0, 2, 4, 6]);
  });
});

describe('a lone surrogate (JS strings allow one; UTF-8 cannot hold it) is refused, never written as U+FFFD', () => {
  it('buildUtf8 names the value; a surrogate pair is kept', () => {
    expect(() => buildUtf8(['ok', null, 'x\ud800'])).toThrow(/^"x\\ud800" holds a lone surrogate .*it would become U\+FFFD/);
    expect(() => buildUtf8(['\udc00a'])).toThrow(LoneSurrogateError);
    expect(buildUtf8(['😀', '\ud83d\ude00', 'é']).toArray()).toEqual(['😀', '😀', 'é']);
  });

  it('ctx.table names column and row (tableFromArrays: test/unit/batch/fast-from-array.test.ts)', () => {
    expect(() => buildTable({ s: ['a', 'b\udfff'] })).toThrow(/^ctx\.table: column "s" row 1: "b\\udfff" holds a lone surrogate/);
  });
});
