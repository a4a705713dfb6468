import { ReorderBuffer } from '../../../src/runtime/reorder';

describe('ReorderBuffer', () => {
  it('releases values in sequence order whatever order they arrive in', () => {
    const r = new ReorderBuffer<string>();
    expect(r.put(2, 'c')).toEqual([]);
    expect(r.put(1, 'b')).toEqual([]);
    expect(r.size).toBe(2);
    expect(r.put(0, 'a')).toEqual(['a', 'b', 'c']);
    expect(r.put(3, 'd')).toEqual(['d']);
    expect(r.size).toBe(0);
    expect(r.expected).toBe(4);
  });

  it('rejects a sequence number seen twice', () => {
    const r = new ReorderBuffer<number>();
    r.put(0, 0);
    expect(() => r.put(0, 0)).toThrow(/seen twice/);
    r.put(2, 2);
    expect(() => r.put(2, 2)).toThrow(/seen twice/);
  });
});
