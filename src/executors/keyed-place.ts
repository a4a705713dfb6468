/**
 * Keyed routing's decisions, as pure functions (like runtime/decide.ts): which rows of a batch
 * go to which copy, which parts of an item go to which copy, and which waiting parts may start
 * now. executors/keyed.ts does what they say. Where the cut is made is the plan's decision
 * (plan/key-split.ts).
 */

// Which rows go to which copy: one function for every place that cuts (main here, or the producer's worker).
export { copiesWithRows, rowsByCopy } from '../batch/key-split';

/**
 * The parts of an item for each copy, as positions in its batches, copy after copy (copies with
 * no part left out). `copyOf[i]`: the copy of batch i, whoever cut it (the producer, or main).
 */
export function partsByCopy(copyOf: readonly number[], copies: number): { copy: number; batches: number[] }[] {
  const by: number[][] = Array.from({ length: copies }, () => []);
  copyOf.forEach((copy, i) => {
    if (!Number.isInteger(copy) || copy < 0 || copy >= copies) throw new Error(`internal: part ${i} is for copy ${copy}, of ${copies}`);
    by[copy].push(i);
  });
  return by.flatMap((batches, copy) => (batches.length ? [{ copy, batches }] : []));
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
