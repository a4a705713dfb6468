/**
 * Which unit a failed cluster run is blamed on (cluster/driver.ts failedUnitToBlame): the first
 * that failed for good, never a unit its worker dropped because the run had failed already (CI
 * once blamed such a unit, read with no reason or time yet, "failed after 1 attempt(s): undefined").
 */
import { commitFailure, failedUnitToBlame, type UnitState } from '../../../src/cluster/driver';

const done: UnitState = { state: 'completed', attempts: 1 };
const cause: UnitState = { state: 'failed', attempts: 1, reason: 'f07.csv, line 6, column "v": value "seven" is not a valid float64', finishedOn: 2000 };
const droppedEarly: UnitState = { state: 'failed', attempts: 1, reason: 'worker vm:1 dropped unit 7 (f08.csv) of run bad before it recorded it: the run failed; nothing of it is kept', finishedOn: 1000 };
const unread: UnitState = { state: 'failed', attempts: 1 };

it('blames the unit that failed, not one dropped since, even one that reads as finished earlier', () => {
  expect(failedUnitToBlame([done, droppedEarly, cause])?.u).toBe(2);
  expect(failedUnitToBlame([cause, droppedEarly])?.u).toBe(0);
});

it('a failure read without its time yet comes after one whose time is known', () => {
  expect(failedUnitToBlame([unread, cause])?.u).toBe(1);
});

it('the first of several real failures; none when no unit failed', () => {
  expect(failedUnitToBlame([{ ...cause, finishedOn: 3000 }, done, cause])?.u).toBe(2);
  expect(failedUnitToBlame([done, { state: 'active', attempts: 1 }])).toBeUndefined();
});

// The commit job read before its state said 'failed' can predate the failure: no reason, no attempt yet (seen under load in
// cluster-dead-letter.test.ts: "the commit failed after 0 attempt(s): undefined" where the embedded run names the limit it hit).
it("the commit's failure is said from the job read again, not from the copy read before its state", async () => {
  const stale = { attemptsStarted: 0 };
  const fresh = { attemptsStarted: 1, failedReason: 'rejected 4 of 3000 rows (over onError maxErrors 0.1%)' };
  await expect(commitFailure(stale, async () => fresh)).resolves.toBe('the commit failed after 1 attempt(s): rejected 4 of 3000 rows (over onError maxErrors 0.1%)');
  // Gone from Redis meanwhile (a cancel): what was read is all there is, and it says so rather than "undefined".
  await expect(commitFailure(stale, async () => undefined)).resolves.toBe('the commit failed after 0 attempt(s): no reason recorded');
});
