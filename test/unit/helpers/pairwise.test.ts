/** The all-pairs generator behind the failure matrix: full pair coverage, constraints kept, deterministic, small. */
import { IO_DIMS, STAGE_DIMS, allCells, fusedCells, onErrorCells, regressionCells, stageCellValid } from '../../helpers/failure-cells';
import { pairsOf, pairwise, requiredPairs, type Dimensions, type Validity } from '../../helpers/pairwise';

/** Every allowed pair, checked by brute force over the cells (independent of the generator's bookkeeping). */
function missingPairs<D extends Dimensions>(dims: D, cells: Record<string, unknown>[], valid?: Validity<D>): string[] {
  const seen = new Set(cells.flatMap((c) => pairsOf(dims, c as never)));
  return [...requiredPairs(dims, valid)].filter((p) => !seen.has(p));
}

const product = (dims: Dimensions) => Object.values(dims).reduce((n, v) => n * v.length, 1);

describe('pairwise', () => {
  const shapes: [string, Dimensions][] = [
    ['2 × 2', { a: [1, 2], b: ['x', 'y'] }],
    ['3^4', { a: [1, 2, 3], b: [1, 2, 3], c: [1, 2, 3], d: [1, 2, 3] }],
    ['mixed 9 × 5 × 3 × 3 × 3 × 2', { how: [1, 2, 3, 4, 5, 6, 7, 8, 9], sink: ['p', 'c', 'n', 'a', 'd'], mode: ['i', 't', 'p'], pos: [0, 1, 2], phase: ['s', 'p', 'f'], thread: [true, false] }],
    ['one dimension', { a: [1, 2, 3] }],
  ];

  it.each(shapes)('%s: every pair of values of any two dimensions occurs', (_name, dims) => {
    const cells = pairwise(dims);
    expect(missingPairs(dims, cells)).toEqual([]);
    // and every value at least once (with one dimension there are no pairs to imply it)
    for (const [n, values] of Object.entries(dims)) expect(new Set(cells.map((c) => (c as Record<string, unknown>)[n]))).toEqual(new Set(values));
    // every cell has a value from each dimension's own list
    for (const c of cells) for (const [n, values] of Object.entries(dims)) expect(values).toContain((c as Record<string, unknown>)[n]);
  });

  it('is far smaller than the full product and never below the largest pair count', () => {
    const dims = shapes[2][1];
    const cells = pairwise(dims);
    expect(cells.length).toBeGreaterThanOrEqual(9 * 5);
    expect(cells.length).toBeLessThan(product(dims) / 10);
    expect(pairwise(shapes[1][1]).length).toBeLessThanOrEqual(15); // 9 is optimal for 3^4; greedy stays close
  });

  it('is deterministic', () => {
    const dims = shapes[2][1];
    expect(pairwise(dims)).toEqual(pairwise(dims));
  });

  it('keeps constraints: forbidden pairs are not required and no cell holds one', () => {
    const dims = { how: ['throw', 'exit', 'sigkill'], mode: ['inline', 'thread', 'process'], sink: ['csv', 'parquet'] } as const;
    const valid: Validity<typeof dims> = (c) => !(c.how === 'sigkill' && c.mode !== undefined && c.mode !== 'process');
    const cells = pairwise(dims, valid);
    expect(cells.some((c) => c.how === 'sigkill' && c.mode !== 'process')).toBe(false);
    expect(missingPairs(dims, cells, valid)).toEqual([]);
    expect(requiredPairs(dims, valid).has('how=2|mode=0')).toBe(false);
    expect(cells.some((c) => c.how === 'sigkill' && c.sink === 'csv')).toBe(true);
  });

  it('a missing pair is detected (the coverage check can fail)', () => {
    const dims = { a: [1, 2], b: [1, 2] };
    expect(missingPairs(dims, [{ a: 1, b: 1 }, { a: 2, b: 2 }])).toEqual(['a=0|b=1', 'a=1|b=0']);
  });

  it('refuses an empty dimension', () => {
    expect(() => pairwise({ a: [1], b: [] })).toThrow(/"b" has no values/);
  });

  it("the failure matrix's own cells cover every allowed pair, and no SIGKILL outside process mode", () => {
    // All the cells it runs (the pairwise ones are made around the hand-picked ones); a cell
    // without onError runs with the default, 'fail', and counts for that value.
    const cells = allCells().map((c) => ({ onError: 'fail' as const, ...c }));
    const stage = cells.filter((c) => c.family === 'stage');
    expect(missingPairs(STAGE_DIMS, stage, stageCellValid)).toEqual([]);
    expect(stage.filter((c) => c.how === 'sigkill' && c.mode !== 'process')).toEqual([]);
    const io = cells.filter((c) => c.family !== 'stage').map((c) => ({ ...c, where: c.family === 'sink' ? 'sink-write' : c.fault }));
    expect(missingPairs(IO_DIMS, io)).toEqual([]);
    // The hand-picked cells are kept, and no cell is run twice.
    expect(cells.filter((c) => c.note === 'regression')).toHaveLength(regressionCells().length);
    expect(cells.filter((c) => c.note === 'fused parse')).toHaveLength(fusedCells().length);
    expect(cells.filter((c) => c.note === 'onError')).toHaveLength(onErrorCells().length);
    const key = (c: object) => JSON.stringify(Object.entries(c).filter(([k]) => k !== 'id' && k !== 'note').sort());
    expect(new Set(cells.map(key)).size).toBe(cells.length);
  });

  it("spends no failure-matrix cell on pairs only: each pairwise cell holds a pair that no hand-picked or earlier cell holds", () => {
    const cells = allCells().map((c) => ({ onError: 'fail' as const, ...c }));
    for (const [dims, family] of [[STAGE_DIMS, (c: (typeof cells)[number]) => c.family === 'stage'], [IO_DIMS, (c: (typeof cells)[number]) => c.family !== 'stage']] as const) {
      const set = cells.filter(family).map((c) => ({ ...c, where: c.family === 'sink' ? 'sink-write' : 'fault' in c ? c.fault : undefined }));
      const seen = new Set(set.filter((c) => c.note).flatMap((c) => pairsOf(dims, c as never)));
      const wasted = set.filter((c) => !c.note).filter((c) => {
        const fresh = pairsOf(dims, c as never).filter((p) => !seen.has(p));
        fresh.forEach((p) => seen.add(p));
        return fresh.length === 0;
      });
      expect(wasted.map((c) => c.id)).toEqual([]);
    }
  });

  it('counts the pairs of `covered` cells as covered and does not return them', () => {
    const dims = { a: [1, 2, 3], b: ['x', 'y', 'z'], c: [true, false] };
    const covered = [{ a: 1, b: 'x', c: true }, { a: 2, b: 'y', c: false }] as const;
    const cells = pairwise(dims, undefined, [...covered]);
    expect(missingPairs(dims, [...cells, ...covered])).toEqual([]);
    expect(cells.length).toBeLessThan(pairwise(dims).length);
    expect(missingPairs(dims, cells)).not.toEqual([]); // the covered cells' own pairs are left to them
  });
});
