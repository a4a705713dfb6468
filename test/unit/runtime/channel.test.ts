import { tableFromArrays } from 'apache-arrow';
import { OwnedBatch } from '../../../src/batch/owned';
import { Channel } from '../../../src/runtime/channel';

const batch = (n: number) => tableFromArrays({ x: Int32Array.from({ length: n }, (_, i) => i) }).batches[0];
const item = (seq: number, rows = 4): OwnedBatch => OwnedBatch.plain(seq, [batch(rows)]);

describe('Channel', () => {
  it('grants credit up to its capacity in items, counting reservations', () => {
    const ch = new Channel('a→b', { capacity: 2, capacityBytes: 1 << 30 }, true);
    expect(ch.hasCredit(0)).toBe(true);
    const r1 = ch.reserve(0);
    expect(ch.hasCredit(0)).toBe(true);
    ch.reserve(0);
    expect(ch.hasCredit(0)).toBe(false);
    ch.fulfil(r1, item(0));
    expect(ch.hasCredit(0)).toBe(false); // still 2 held: one ready, one reserved
    ch.take();
    expect(ch.hasCredit(0)).toBe(true);
    expect(ch.peakDepth).toBe(2);
  });

  it('bounds bytes, but an empty channel always admits one item', () => {
    const ch = new Channel('a→b', { capacity: 10, capacityBytes: 100 }, false);
    expect(ch.hasCredit(1000)).toBe(true);
    const big = item(0, 250); // 1000 bytes of Int32
    ch.fulfil(ch.reserve(big.bytes), big);
    expect(ch.bytes).toBe(big.bytes);
    expect(ch.hasCredit(1)).toBe(false);
    ch.take();
    expect(ch.bytes).toBe(0);
  });

  it('releases items in sequence order when ordered', () => {
    const ch = new Channel('a→b', { capacity: 3, capacityBytes: 1 << 30 }, true);
    const [r0, r1, r2] = [ch.reserve(0), ch.reserve(0), ch.reserve(0)];
    ch.fulfil(r2, item(2));
    ch.fulfil(r1, item(1));
    expect(ch.hasReady()).toBe(false);
    ch.fulfil(r0, item(0));
    expect([ch.take().seq, ch.take().seq, ch.take().seq]).toEqual([0, 1, 2]);
  });

  it('passes items as they finish when unordered', () => {
    const ch = new Channel('a→b', { capacity: 3, capacityBytes: 1 << 30 }, false);
    const [, r1] = [ch.reserve(0), ch.reserve(0)];
    ch.fulfil(r1, item(1));
    expect(ch.take().seq).toBe(1);
  });

  it('is drained only once closed with nothing reserved or waiting', () => {
    const ch = new Channel('a→b', { capacity: 3, capacityBytes: 1 << 30 }, true);
    const r = ch.reserve(0);
    ch.close();
    expect(ch.drained).toBe(false);
    ch.fulfil(r, item(0));
    expect(ch.drained).toBe(false);
    ch.take();
    expect(ch.drained).toBe(true);
  });

  it('an owned batch measures its Arrow bytes once', () => {
    expect(item(0, 256).bytes).toBeGreaterThanOrEqual(256 * 4);
  });
});
