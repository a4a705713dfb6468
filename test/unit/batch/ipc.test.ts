import { Int32, RecordBatch, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { decodeBatches, encodeBatches } from '../../../src/batch/ipc';
import { allTypesBatch, expectBatchesEqual } from '../../helpers/arrow-types';

function joined(chunks: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

function intBatch(values: number[]): RecordBatch {
  return new Table({ x: vectorFromArray(values, new Int32()) }).batches[0];
}

describe('Arrow IPC encode/decode of batch lists', () => {
  it('round-trips every Arrow type with nulls', () => {
    const batch = allTypesBatch(11);
    const encoded = encodeBatches([batch]);
    expect(encoded.byteLength).toBe(encoded.chunks.reduce((n, c) => n + c.byteLength, 0));
    const [back] = decodeBatches(joined(encoded.chunks));
    expectBatchesEqual(back, batch);
  });

  it('keeps Utf8View as Utf8View (no conversion on this transport)', () => {
    const batch = allTypesBatch(5);
    const [back] = decodeBatches(joined(encodeBatches([batch]).chunks));
    expect(String(back.schema.fields.find((f) => f.name === 'utf8_view')!.type)).toBe('Utf8View');
  });

  it('hands body buffers over as views of the batch memory, not copies', () => {
    const values = Array.from({ length: 4096 }, (_, i) => i);
    const batch = intBatch(values);
    const data = batch.getChild('x')!.data[0].values;
    const { chunks } = encodeBatches([batch]);
    expect(chunks.some((c) => c.buffer === data.buffer && c.byteLength === data.byteLength)).toBe(true);
  });

  it('keeps order across several batches, schema changes and zero-row batches', () => {
    const strings = new Table({ s: vectorFromArray(['a', null, 'c'], new Utf8()) }).batches[0];
    const input = [intBatch([1, 2]), intBatch([]), intBatch([3]), strings, intBatch([4])];
    const out = decodeBatches(joined(encodeBatches(input).chunks));
    expect(out.map((b) => b.numRows)).toEqual([2, 0, 1, 3, 1]);
    expect(out.map((b) => b.schema.fields[0].name)).toEqual(['x', 'x', 'x', 's', 'x']);
    out.forEach((b, i) => expectBatchesEqual(b, input[i]));
  });

  it('encodes an empty list as zero bytes and decodes it back to no batches', () => {
    const encoded = encodeBatches([]);
    expect(encoded.byteLength).toBe(0);
    expect(decodeBatches(new Uint8Array(0))).toEqual([]);
  });

  it('decodes without copying: vectors are views into the received bytes', () => {
    const bytes = joined(encodeBatches([intBatch([7, 8, 9])]).chunks);
    const [back] = decodeBatches(bytes);
    expect(back.getChild('x')!.data[0].values.buffer).toBe(bytes.buffer);
  });
});

describe('sliced view columns', () => {
  it('a sliced Utf8View batch crosses intact (apache-arrow writes it wrongly unless rebased)', () => {
    const sliced = allTypesBatch(9).slice(2, 7);
    const { chunks } = encodeBatches([sliced]);
    const bytes = Buffer.concat(chunks);
    const [back] = decodeBatches(bytes);
    expect(back.getChild('utf8_view')!.toArray()).toEqual(sliced.getChild('utf8_view')!.toArray());
  });
});

describe('one encoding per batch (a resumable cut both stages a batch and sends it to a process stage)', () => {
  it('a batch encoded again gets the same chunks, frozen, and they still decode to it', () => {
    const batch = intBatch([1, 2, 3]);
    const first = encodeBatches([batch]);
    const again = encodeBatches([batch]);
    expect(again).toBe(first);
    expect(Object.isFrozen(again.chunks)).toBe(true);
    expect(() => (again.chunks as Uint8Array[]).push(new Uint8Array(1))).toThrow(TypeError);
    expect(decodeBatches(joined(again.chunks))[0].getChild('x')!.toArray()).toEqual(new Int32Array([1, 2, 3]));
  });

  it('another batch with the same values, or a list of batches, is encoded afresh', () => {
    const batch = intBatch([1, 2, 3]);
    const first = encodeBatches([batch]);
    expect(encodeBatches([intBatch([1, 2, 3])])).not.toBe(first);
    expect(encodeBatches([batch, batch])).not.toBe(encodeBatches([batch, batch]));
  });

  it('a batch whose view columns are rebased (copied) is not kept: its copy would be held twice', () => {
    const sliced = allTypesBatch(9).slice(2, 7);
    expect(encodeBatches([sliced])).not.toBe(encodeBatches([sliced]));
  });
});
