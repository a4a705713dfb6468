/**
 * One owned batch, one release: a value is released once, handing it on empties it, and
 * `consume` releases in one place whatever the work did. Strict leases (jest.config.js) make
 * a second release an error instead of a silent double free.
 */
import { tableFromArrays } from 'apache-arrow';
import { OwnedBatch } from '../../../src/batch/owned';
import { SlabArena, refCount } from '../../../src/batch/slab';
import { leaseOf } from '../../../src/batch/shared';

const batches = () => tableFromArrays({ x: Int32Array.of(1, 2, 3) }).batches;

function counted() {
  let released = 0;
  return { lease: { release: () => released++ }, released: () => released };
}

describe('OwnedBatch', () => {
  it('measures its bytes once and releases its lease exactly once', () => {
    const c = counted();
    const owned = new OwnedBatch({ seq: 3, batches: batches(), lease: c.lease });
    expect(owned.bytes).toBeGreaterThanOrEqual(12);
    expect(owned.rows).toBe(3);
    owned.release();
    expect(c.released()).toBe(1);
    expect(() => owned.release()).toThrow(/released twice/);
    expect(c.released()).toBe(1);
  });

  it('moveTo hands the lease to the new value; the old one can no longer release it', () => {
    const c = counted();
    const first = new OwnedBatch({ seq: -1, sourceFile: 'a.csv', batches: batches(), lease: c.lease });
    const moved = first.moveTo({ seq: 7 });
    expect([moved.seq, moved.sourceFile]).toEqual([7, 'a.csv']);
    expect(() => first.release()).toThrow(/handed on/);
    expect(() => first.moveTo({ seq: 8 })).toThrow(/handed on after/);
    moved.release();
    expect(c.released()).toBe(1);
  });

  it('consume releases after the work, also when it throws', async () => {
    const ok = counted();
    await new OwnedBatch({ seq: 0, batches: batches(), lease: ok.lease }).consume(async (o) => o.rows);
    expect(ok.released()).toBe(1);
    const bad = counted();
    await expect(
      new OwnedBatch({ seq: 0, batches: batches(), lease: bad.lease }).consume(() => {
        throw new Error('stage failed');
      }),
    ).rejects.toThrow('stage failed');
    expect(bad.released()).toBe(1);
  });

  it('a backing is kept only for exactly one batch', () => {
    const arena = new SlabArena();
    const slab = arena.acquire(1024);
    const backing = { format: 'ipc-file' as const, slab, offset: 64, length: 100 };
    const one = new OwnedBatch({ seq: 0, batches: batches(), lease: leaseOf([slab]), backing });
    expect(one.backing).toBe(backing);
    const two = new OwnedBatch({ seq: 0, batches: [...batches(), ...batches()], backing });
    expect(two.backing).toBeUndefined();
    // New batches in a move drop the old bytes' place unless given anew.
    const moved = one.moveTo({ batches: batches() });
    expect(moved.backing).toBeUndefined();
    moved.release();
    expect(refCount(slab)).toBe(0);
    two.release();
  });
});
