/**
 * Keyed routing's pure decisions (executors/keyed-place.ts): rows by copy (hash mod copies,
 * row order kept), which copies get a part, and per-copy slots: a full copy (a hot key) holds
 * back only its own parts, and each copy's parts start in arrival order.
 */
import { copiesWithRows, partsByCopy, partsToStart, rowsByCopy } from '../../../src/executors/keyed-place';

describe('rowsByCopy', () => {
  it('puts row i on copy hashes[i] mod copies, in row order', () => {
    const rows = rowsByCopy(Uint32Array.of(4, 1, 7, 2, 5, 0), 3);
    expect(rows.map((r) => [...r])).toEqual([[5], [0, 1, 2], [3, 4]]);
  });
  it('with one copy, every row in order; with no rows, empty parts', () => {
    expect(rowsByCopy(Uint32Array.of(9, 8, 7), 1).map((r) => [...r])).toEqual([[0, 1, 2]]);
    expect(rowsByCopy(new Uint32Array(0), 2).map((r) => [...r])).toEqual([[], []]);
  });
  it('equal hashes always land together, however many rows', () => {
    const hashes = Uint32Array.from({ length: 1000 }, (_, i) => [17, 4_000_000_000, 3][i % 3]);
    const rows = rowsByCopy(hashes, 4);
    for (const part of rows) expect(new Set([...part].map((i) => hashes[i])).size).toBeLessThanOrEqual(1);
  });
});

describe('copiesWithRows', () => {
  it('the copies with rows', () => expect(copiesWithRows([0, 3, 0, 1])).toEqual([1, 3]));
  it('a batch without rows still goes to one copy (copy 0), to carry its schema on', () => expect(copiesWithRows([0, 0, 0])).toEqual([0]));
});

describe('partsToStart: slots per copy', () => {
  it('starts every part whose copy has a free slot', () => expect(partsToStart([0, 1, 2], [0, 0, 0], 1)).toEqual([0, 1, 2]));
  it('a full copy (a hot key) holds back its own parts only: the parts behind them for other copies start', () => {
    // copy 0 holds 2 of 2; parts waiting for 0, 1, 0, 2, 1
    expect(partsToStart([0, 1, 0, 2, 1], [2, 0, 0], 2)).toEqual([1, 3, 4]);
  });
  it('counts the parts it starts against the copy: no more than `perCopy` at once, oldest first', () => {
    expect(partsToStart([1, 1, 1, 0], [0, 1, 0], 2)).toEqual([0, 3]);
  });
  it('nothing starts when every copy is full', () => expect(partsToStart([0, 1], [1, 1], 1)).toEqual([]));
});

describe('partsByCopy', () => {
  it('groups the batches of each copy, copy after copy, keeping their order; copies without a part left out', () =>
    expect(partsByCopy([0, 0, 2, 2, 2], 3)).toEqual([
      { copy: 0, batches: [0, 1] },
      { copy: 2, batches: [2, 3, 4] },
    ]));
  it('no batch: no part', () => expect(partsByCopy([], 2)).toEqual([]));
  it('a copy out of range (a producer cut for other copies) is an internal error, not a lost part', () => expect(() => partsByCopy([0, 2], 2)).toThrow(/part 1 is for copy 2, of 2/));
});
