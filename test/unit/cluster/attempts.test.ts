/** A job whose worker died while running it: each start counts against its attempts (src/cluster/attempts.ts). */
import { refuseDiedTooOften, type StartedJob } from '../../../src/cluster/attempts';

const unit = (attemptsStarted: number, attemptsMade: number, attempts = 2): StartedJob => ({ name: 'unit', attemptsStarted, attemptsMade, opts: { attempts }, data: { runId: 'r', unit: 3, file: '/in/f4.csv' } });

it('starts within the attempts run, and say how many before them died', () => {
  expect(refuseDiedTooOften(unit(1, 0))).toBe(0);
  expect(refuseDiedTooOften(unit(2, 0))).toBe(1);
  expect(refuseDiedTooOften(unit(2, 1))).toBe(0); // the first attempt failed with an error: no death
});

it('a start past the attempts after deaths fails for good, naming the deaths and the attempts', () => {
  let err: (Error & { where?: unknown }) | undefined;
  try {
    refuseDiedTooOften(unit(3, 0));
  } catch (e) {
    err = e as Error & { where?: unknown };
  }
  expect(err?.name).toBe('ClusterError');
  expect(err?.message).toMatch(/^the worker running it died 2 time\(s\) \(.*SIGKILL.*\); the unit is not tried again \(attempts: 2\)$/);
  expect(err?.where).toEqual({ runId: 'r', unit: 3, file: '/in/f4.csv' });
  expect(() => refuseDiedTooOften({ ...unit(4, 0, 3), name: 'commit', data: { runId: 'r' } })).toThrow(/the commit job is not tried again \(attempts: 3\)/);
});

it('retries after errors (BullMQ\'s own attempts) are not deaths: never refused here', () => {
  expect(refuseDiedTooOften(unit(3, 2))).toBe(0);
});
