/**
 * A small deterministic all-pairs (pairwise) generator: cells such that every pair of values
 * of any two dimensions occurs in at least one cell, far fewer than the full product.
 *
 * Greedy, in the manner of AETG/PICT without randomness: each cell starts from a pair not yet
 * covered of the two dimensions with the most such pairs left (the hardest to cover: they
 * bound the number of cells), and fills each other dimension with the value that covers the
 * most uncovered pairs (ties: the value used least so far, then the first, which spreads the
 * values that no longer matter instead of repeating the first one). One candidate is built
 * from each uncovered pair of those two dimensions and the one covering the most pairs is
 * kept (ties: the first): the failure matrix's stage set takes 38 cells where starting from
 * the first uncovered pair took 41. `valid` rules out meaningless combinations: a pair it
 * rejects is never required and no cell it rejects is produced. Written by hand because the
 * npm packages for this are unmaintained or random-seeded, and it is 80 lines.
 */
export type Dimensions = Record<string, readonly unknown[]>;
export type Cell<D extends Dimensions> = { [K in keyof D]: D[K][number] };
/** Called with partial cells too: return false only when the values given already conflict. */
export type Validity<D extends Dimensions> = (cell: Partial<Cell<D>>) => boolean;

const key = (a: string, i: number, b: string, j: number) => `${a}=${i}|${b}=${j}`;

/** Every pair of (dimension, value index) that `valid` allows, as keys. */
export function requiredPairs<D extends Dimensions>(dims: D, valid: Validity<D> = () => true): Set<string> {
  const names = Object.keys(dims);
  const pairs = new Set<string>();
  for (let x = 0; x < names.length; x++)
    for (let y = x + 1; y < names.length; y++)
      dims[names[x]].forEach((vx, i) =>
        dims[names[y]].forEach((vy, j) => {
          if (valid({ [names[x]]: vx, [names[y]]: vy } as Partial<Cell<D>>)) pairs.add(key(names[x], i, names[y], j));
        }),
      );
  return pairs;
}

/** The pairs a cell covers, as keys (cells hold values; indexes are found by identity). */
export function pairsOf<D extends Dimensions>(dims: D, cell: Partial<Cell<D>>): string[] {
  const names = Object.keys(dims).filter((n) => n in cell);
  const out: string[] = [];
  for (let x = 0; x < names.length; x++)
    for (let y = x + 1; y < names.length; y++) out.push(key(names[x], dims[names[x]].indexOf(cell[names[x]]), names[y], dims[names[y]].indexOf(cell[names[y]])));
  return out;
}

/**
 * `covered`: cells run anyway (hand-picked regressions, say): their pairs count as covered and
 * they are not returned, so the cells returned plus these cover every pair, with no cell spent
 * on a pair a hand-picked one already holds.
 */
export function pairwise<D extends Dimensions>(dims: D, valid: Validity<D> = () => true, covered: readonly Cell<D>[] = []): Cell<D>[] {
  const names = Object.keys(dims);
  for (const n of names) if (dims[n].length === 0) throw new Error(`dimension "${n}" has no values`);
  // With one dimension there are no pairs: each value is a cell.
  if (names.length === 1) return dims[names[0]].filter((v) => valid({ [names[0]]: v } as Partial<Cell<D>>) && !covered.some((c) => c[names[0]] === v)).map((v) => ({ [names[0]]: v }) as Cell<D>);
  const uncovered = requiredPairs(dims, valid);
  for (const c of covered) for (const p of pairsOf(dims, c)) uncovered.delete(p);
  const cells: Cell<D>[] = [];
  const used = new Map<string, number>(); // `${dimension}=${value index}` → cells holding it
  const uses = (n: string, v: unknown) => used.get(`${n}=${dims[n].indexOf(v)}`) ?? 0;
  const dimsOf = (pair: string) => pair.slice(0, pair.indexOf('=')) + '|' + pair.slice(pair.indexOf('|') + 1, pair.lastIndexOf('='));
  /** The cell `seed` (a pair key) starts, every other dimension filled greedily; undefined if `valid` refuses the seed. */
  const cellFrom = (seed: string): Partial<Cell<D>> | undefined => {
    const [[a, i], [b, j]] = seed.split('|').map((s) => s.split('=')).map(([n, v]) => [n, Number(v)] as const);
    const cell: Partial<Cell<D>> = { [a]: dims[a][i], [b]: dims[b][j] } as Partial<Cell<D>>;
    if (!valid(cell)) return undefined;
    for (const n of names) {
      if (n in cell) continue;
      let best: { value: unknown; gain: number; uses: number } | undefined;
      for (const value of dims[n]) {
        const trial = { ...cell, [n]: value } as Partial<Cell<D>>;
        if (!valid(trial)) continue;
        const gain = pairsOf(dims, trial).filter((p) => uncovered.has(p)).length;
        if (!best || gain > best.gain || (gain === best.gain && uses(n, value) < best.uses)) best = { value, gain, uses: uses(n, value) };
      }
      if (!best) throw new Error(`no valid value of "${n}" completes ${JSON.stringify(cell)}`);
      (cell as Record<string, unknown>)[n] = best.value;
    }
    return cell;
  };
  while (uncovered.size > 0) {
    // The two dimensions with the most uncovered pairs (ties: the first in order).
    const left = new Map<string, number>();
    for (const p of uncovered) left.set(dimsOf(p), (left.get(dimsOf(p)) ?? 0) + 1);
    const hardest = [...left].reduce((x, y) => (y[1] > x[1] ? y : x))[0];
    let cell: Partial<Cell<D>> | undefined;
    let gain = -1;
    for (const seed of uncovered) {
      if (dimsOf(seed) !== hardest) continue;
      const candidate = cellFrom(seed);
      const g = candidate ? pairsOf(dims, candidate).filter((p) => uncovered.has(p)).length : -1;
      if (g > gain) [cell, gain] = [candidate, g];
    }
    if (!cell) throw new Error(`no valid cell covers the pairs left of ${hardest}`);
    for (const p of pairsOf(dims, cell)) uncovered.delete(p);
    for (const n of names) used.set(`${n}=${dims[n].indexOf(cell[n])}`, uses(n, cell[n]) + 1);
    cells.push(cell as Cell<D>);
  }
  return cells;
}
