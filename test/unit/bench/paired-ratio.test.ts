/**
 * How the survival bench judges its ≤ 5 % target (bench/lib.ts `pairedRatio`): each round's
 * contender against the reference run of the same round, so a round the machine ran slow for
 * both cancels out, where the ratio of the two medians (taken from different rounds) does not.
 */
import { median, pairedRatio } from '../../../bench/lib';

it('a contender 3 % dearer in every round is 1.03, however the machine drifts between rounds', () => {
  const off = [6.0, 7.4, 5.9, 6.8, 7.3];
  const on = off.map((x) => x * 1.03);
  // Rotated by one round: the same runs, each beside another round's reference.
  const shifted = [...on.slice(1), on[0]];
  expect(pairedRatio(on, off)).toBeCloseTo(1.03, 10);
  expect(pairedRatio(shifted, off)).not.toBeCloseTo(1.03, 2);
});

it('a drifting machine and one slowed run of the contender: 1 % stays 1 %, where the medians read 15 %', () => {
  const off = [6.0, 8.0, 7.0, 9.0, 6.5]; // the machine's speed from round to round
  const on = [6.06, 8.08, 7.07, 9.09, 9.5]; // 1 % dearer, and a neighbour's burst during its last run
  expect(pairedRatio(on, off)).toBeCloseTo(1.01, 10);
  expect(median(on) / median(off)).toBeCloseTo(8.08 / 7.0, 10);
});

it('refuses runs that do not pair up', () => {
  expect(() => pairedRatio([1, 2], [1])).toThrow(/2 runs against 1/);
  expect(() => pairedRatio([], [])).toThrow(/one pair per round/);
});
