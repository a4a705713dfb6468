/**
 * A string column whose bytes are not UTF-8 (a lone surrogate as WTF-8 bytes, as a process
 * stage in another language may write one) reaches a text sink: every text sink × every way a
 * string column can hold it (Utf8, LargeUtf8, a dictionary, nested in a list) refuses it naming
 * row and column, where decoding wrote U+FFFD and exited 0; nothing is left at the path.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Dictionary, Field, Int32, LargeUtf8, List, Table, Utf8, makeData, makeVector, type Vector } from 'apache-arrow';
import { openSink } from '../../../../src/io/sinks';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-invalid-utf8-'));
// "a", then "x" + ED A0 80 (U+D800 as WTF-8) + "y"
const bytes = Buffer.from([0x61, 0x78, 0xed, 0xa0, 0x80, 0x79]);
const utf8 = () => makeData({ type: new Utf8(), length: 2, valueOffsets: Int32Array.of(0, 1, 6), data: bytes });

const holders: Record<string, () => Vector> = {
  utf8: () => makeVector(utf8()),
  largeUtf8: () => makeVector(makeData({ type: new LargeUtf8(), length: 2, valueOffsets: BigInt64Array.of(0n, 1n, 6n), data: bytes })),
  dictionary: () => makeVector(makeData({ type: new Dictionary(new Utf8(), new Int32()), length: 2, data: Int32Array.of(0, 1), dictionary: makeVector(utf8()) })),
  list: () => makeVector(makeData({ type: new List(new Field('item', new Utf8(), true)), length: 1, valueOffsets: Int32Array.of(0, 2), child: utf8() })),
};

let n = 0;
describe.each(['csv', 'ndjson'] as const)('the %s sink', (format) => {
  it.each(Object.keys(holders))('refuses bytes that are not UTF-8 in a %s column, naming row and column', async (holder) => {
    const p = path.join(dir, `o${n++}.${format}`);
    const vector = holders[holder]();
    const sink = await openSink({ format, path: p });
    const row = holder === 'list' ? 1 : 2;
    await expect(sink.write(new Table({ s: vector }).batches[0], { seq: 0 })).rejects.toThrow(new RegExp(`cannot write row ${row}, column "s" to .*: the value is not valid UTF-8`));
    await sink.abort();
    expect(existsSync(p)).toBe(false);
  });

  it('writes valid non-ASCII strings as they are', async () => {
    const p = path.join(dir, `ok${n++}.${format}`);
    const good = Buffer.from('é😀', 'utf8');
    const vector = makeVector(makeData({ type: new Utf8(), length: 1, valueOffsets: Int32Array.of(0, good.length), data: good }));
    const sink = await openSink({ format, path: p });
    await sink.write(new Table({ s: vector }).batches[0], { seq: 0 });
    await sink.commit();
    expect(readFileSync(p, 'utf8')).toContain('é😀');
  });
});
