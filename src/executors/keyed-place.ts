/**
 * Keyed routing's decisions, as pure functions (like runtime/decide.ts): which rows of a batch
 * go to which copy, and which waiting parts may start now. executors/keyed.ts does what they say.
 */

/**
 * The rows of each copy, in row order: row `i` goes to copy `hashes[i] mod copies`, so every
 * row of a key goes to the same copy, batch after batch. A counting sort (two passes, no
 * comparisons).
 */
export function rowsByCopy(hashes: Uint32Array, copies: number): Uint32Array[] {
  const counts = new Array<number>(copies).fill(0);
  for (let i = 0; i < hashes.length; i++) counts[hashes[i] % copies]++;
  const rows = counts.map((c) => new Uint32Array(c));
  const at = new Array<number>(copies).fill(0);
  for (let i = 0; i < hashes.length; i++) {
    const c = hashes[i] % copies;
    rows[c][at[c]++] = i;
  }
  return rows;
}

/**
 * Which copies get a part of a batch: those with rows. A batch without rows still goes through
 * the stage once (it carries the schema on, as it would through one copy): to copy 0.
 */
export function copiesWithRows(counts: readonly number[]): number[] {
  const some = counts.flatMap((c, copy) => (c > 0 ? [copy] : []));
  return some.length ? some : [0];
}

/**
 * Slots are per copy: each copy holds at most `perCopy` parts at once. Given the copy of each
 * waiting part (oldest first) and the parts each copy holds now, the waiting parts to start
 * now (their positions in `waiting`). A copy's parts start in arrival order (each copy sees
 * its batches in input order), and a full copy (a hot key) holds back only its own parts:
 * the parts behind them for other copies start.
 */
export function partsToStart(waiting: readonly number[], inFlight: readonly number[], perCopy: number): number[] {
  const held = [...inFlight];
  const start: number[] = [];
  waiting.forEach((copy, i) => {
    if (held[copy] < perCopy) {
      held[copy]++;
      start.push(i);
    }
  });
  return start;
}
