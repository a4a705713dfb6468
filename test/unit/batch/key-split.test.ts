/**
 * The one cut every place uses (batch/key-split.ts): splitByKey puts each row on the copy of its
 * key hash, parts in copy order with each copy's rows in order, a batch whose rows all go to one
 * copy passed as it is (0 bytes copied); cutForReader (what a producer's worker runs) keeps the
 * output's backing only when nothing was cut, and fails as the keyed stage's StageError.
 */
import { Float64, Table, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { hashKeyRows } from '../../../src/batch/key-hash';
import { cutForReader, splitByKey } from '../../../src/batch/key-split';
import type { Backing } from '../../../src/batch/owned';
import { StageError } from '../../../src/errors';

const batchOf = (keys: string[]): RecordBatch =>
  new Table({ k: vectorFromArray(keys, new Utf8()), v: vectorFromArray(keys.map((_, i) => i), new Float64()) }).batches[0];
const rowsOf = (b: RecordBatch) => Array.from({ length: b.numRows }, (_, i) => [b.getChild('k')!.get(i), b.getChild('v')!.get(i)]);
const KEYS = Array.from({ length: 50 }, (_, i) => `key-${i % 13}`);

it('each row on the copy of its hash, parts in copy order, rows in order; bytes copied counted', () => {
  const batches = [batchOf(KEYS), batchOf(KEYS.slice(5, 30))];
  const parts = splitByKey(batches, ['k'], 3);
  expect(parts.copyOf).toEqual([...parts.copyOf].sort());
  const hashes = batches.map((b) => hashKeyRows(b, ['k']));
  for (const [i, part] of parts.batches.entries()) {
    for (const [k] of rowsOf(part)) {
      const at = KEYS.indexOf(k as string);
      expect(hashes[0][at] % 3).toBe(parts.copyOf[i]);
    }
  }
  // Every row once; each copy's rows in the order of the batches they came from.
  expect(parts.batches.reduce((n, b) => n + b.numRows, 0)).toBe(75);
  for (let copy = 0; copy < 3; copy++) {
    const want = batches.flatMap((b, j) => rowsOf(b).filter((_, r) => hashes[j][r] % 3 === copy));
    expect(parts.batches.filter((_, i) => parts.copyOf[i] === copy).flatMap(rowsOf)).toEqual(want);
    expect(parts.rowsPerCopy[copy]).toBe(want.length);
  }
  expect(parts.copiedBytes).toBeGreaterThan(0);
});

it('a batch whose rows all go to one copy passes as it is, with its backing: nothing copied', () => {
  const b = batchOf(['same', 'same', 'same']);
  const backing = { format: 'ipc-stream', slab: new SharedArrayBuffer(8), offset: 0, length: 8 } as Backing;
  const cut = cutForReader({ batches: [b], backing }, { stage: 'agg', key: ['k'], copies: 4 }, { seq: 1, threadId: 3 });
  expect(cut.batches).toEqual([b]);
  expect(cut.batches[0]).toBe(b);
  expect(cut.backing).toBe(backing);
  expect(cut.split).toEqual({ copyOf: [hashKeyRows(b, ['k'])[0] % 4], copiedBytes: 0, threadId: 3 });
});

it('a cut batch loses the backing (its bytes are no longer the parts), and says where it ran', () => {
  const backing = { format: 'ipc-stream', slab: new SharedArrayBuffer(8), offset: 0, length: 8 } as Backing;
  const cut = cutForReader({ batches: [batchOf(KEYS)], backing }, { stage: 'agg', key: ['k'], copies: 2 }, { seq: 1, pid: 42 });
  expect(cut.batches.length).toBe(2);
  expect(cut.backing).toBeUndefined();
  expect(cut.split).toMatchObject({ copyOf: [0, 1], pid: 42 });
});

it('a key column missing: the keyed stage\'s StageError, naming batch, file and column', () => {
  let err: unknown;
  try {
    cutForReader({ batches: [batchOf(KEYS)] }, { stage: 'agg', key: ['region'], copies: 2 }, { seq: 5, sourceFile: '/in.csv' });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(StageError);
  expect((err as Error).message).toMatch(/stage "agg", batch #5, from \/in\.csv failed in process\(\): routing rows by key \(region\): key column "region" is not in the batch/);
});
