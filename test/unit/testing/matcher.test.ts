/** `expect(batches).toEqualBatch(expected)` and the diff it prints when they differ. */
import { batchFromRows, diffBatches } from 'sluice/testing';

const got = batchFromRows([
  { id: 1, name: 'a', x: 1.5 },
  { id: 2, name: 'b', x: 2.5 },
  { id: 3, name: 'c', x: 3.5 },
]);

/** The message a failing matcher gives. */
function failure(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the matcher passed');
}

describe('toEqualBatch', () => {
  it('is registered on import and passes on equal batches, or on rows with the value rules', () => {
    expect(got).toEqualBatch(batchFromRows([{ id: 1, name: 'a', x: 1.5 }, { id: 2, name: 'b', x: 2.5 }, { id: 3, name: 'c', x: 3.5 }]));
    expect([got.slice(0, 1), got.slice(1)]).toEqualBatch([{ id: 1n, name: 'a', x: 1.5 }, { id: 2, name: 'b', x: 2.5 }, { id: 3, name: 'c', x: 3.5 }]);
    expect(got).not.toEqualBatch([{ id: 1, name: 'a', x: 1.5 }]);
  });

  it('shows the first differing rows, with the columns that differ', () => {
    const message = failure(() => expect(got).toEqualBatch([{ id: 1, name: 'a', x: 1.5 }, { id: 2, name: 'B', x: 2 }, { id: 3, name: 'c', x: 3.5 }]));
    expect(message).toContain(['row 1:', '  - expected { id: 2, name: "B", x: 2 }', '  + received { id: 2n, name: "b", x: 2.5 }', '    differs in: name, x'].join('\n'));
    expect(message).not.toContain('row 0:');
    expect(message).not.toContain('row 2:');
  });

  it('reports schema differences before rows: missing, unexpected, retyped, reordered columns', () => {
    const expected = batchFromRows([{ id: 1, name: 'a', y: true }], { id: 'int32' });
    const message = diffBatches(got.slice(0, 1), expected)!;
    expect(message.split('\n').slice(0, 4)).toEqual(['schema:', '  ✖ missing column "y" (Bool)', '  ✖ unexpected column "x" (Float64)', '  ✖ column "id": expected Int32, received Int64']);
    expect(diffBatches(got, batchFromRows([{ x: 1.5, id: 1, name: 'a' }, { x: 2.5, id: 2, name: 'b' }, { x: 3.5, id: 3, name: 'c' }]))).toBe('schema:\n  ✖ column order: expected x, id, name; received id, name, x');
  });

  it('counts rows, and says which rows are missing or extra', () => {
    expect(diffBatches(got, [{ id: 1, name: 'a', x: 1.5 }])).toBe(
      ['rows: expected 1, received 3', 'row 1:', '  + received { id: 2n, name: "b", x: 2.5 }', '    (no row expected here)', 'row 2:', '  + received { id: 3n, name: "c", x: 3.5 }', '    (no row expected here)'].join('\n'),
    );
    expect(diffBatches([], [{ id: 1 }])).toBe(['rows: expected 1, received 0', 'row 0:', '  - expected { id: 1 }', '    (no row received)'].join('\n'));
  });

  it('shows at most maxRows differing rows and how many more', () => {
    const many = batchFromRows(Array.from({ length: 20 }, (_, i) => ({ i })));
    const message = diffBatches(many, Array.from({ length: 20 }, (_, i) => ({ i: i + 100 })), { maxRows: 2 })!;
    expect(message.match(/^row \d+:/gm)).toEqual(['row 0:', 'row 1:']);
    expect(message).toContain('… and 18 more differing rows');
  });

  it('ordered: false compares rows as a multiset', () => {
    const shuffled = [{ id: 3, name: 'c', x: 3.5 }, { id: 1, name: 'a', x: 1.5 }, { id: 2, name: 'b', x: 2.5 }];
    expect(got).toEqualBatch(shuffled, { ordered: false });
    expect(got).not.toEqualBatch(shuffled);
    expect(diffBatches(got, [...shuffled.slice(0, 2), { id: 9, name: 'z', x: 0 }], { ordered: false })).toBe(
      ['expected rows not received (1):', '  { id: 9, name: "z", x: 0 }', 'received rows not expected (1):', '  { id: 2n, name: "b", x: 2.5 }'].join('\n'),
    );
  });

  it('refuses what is not batches, saying what it got', () => {
    expect(failure(() => expect({ rows: [] }).toEqualBatch([]))).toContain("received must be a RecordBatch, an array of them, a Table or a stage run's result (got Object)");
  });
});
