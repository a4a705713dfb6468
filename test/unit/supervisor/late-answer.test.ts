/**
 * Attempt ids, on a real thread copy: an attempt the watchdog gave up on that answers after
 * all is never delivered. The hung task is released by the watchdog's own kill (the test wraps
 * kill() to set the flag it waits on), so its answer comes inside the kill's grace time, after
 * the attempt was superseded: deterministic, no sleeps. The retry runs on the copy that
 * replaced it (the same index); the caller gets the retry's answer, once, and the late one goes
 * to `discard` (where an executor releases its memory).
 *
 * Why not "after the retry started": a retry starts only once the superseded attempt's copy is
 * gone (Copies.replace waits for its kill), so the grace time is the only window a late answer
 * has; this test holds that window. (The 3 s timeout only has to outlast a fresh thread's
 * first task on a loaded machine: the hung task waits for the kill, however long.)
 */
import path from 'node:path';
import { Copies, withRetries } from '../../../src/supervisor/attempts';
import { CopyTimeoutError, deathError } from '../../../src/supervisor/death';
import { PiscinaCopy } from '../../../src/supervisor/piscina';

const ENTRY = path.resolve(__dirname, '../../fixtures/workers/piscina-task.cjs');
type Task = { do: string; value?: number; flag?: Int32Array; started?: Int32Array };
type Answer = { threadId: number; value?: number };

const made: PiscinaCopy<Task, Answer>[] = [];
afterAll(() => Promise.all(made.map((c) => c.kill())));

async function copyAt(i: number): Promise<PiscinaCopy<Task, Answer>> {
  const c = new PiscinaCopy<Task, Answer>({ entry: ENTRY, workerData: null, copy: i, stopGraceMs: 10_000 });
  made.push(c);
  await c.start();
  return c;
}

it('a timed-out attempt that answers in its grace time is discarded; the retry on the replacement is the one answer', async () => {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const list = [await copyAt(0)];
  const first = list[0];
  const kill = first.kill.bind(first);
  let killedFor: Error | undefined;
  // The watchdog's kill releases the hung task: it answers while the kill waits for it.
  first.kill = (why?: Error) => {
    killedFor ??= why;
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    return kill(why);
  };
  const copies = new Copies(list, { start: copyAt, retries: 1 });
  const discarded: Answer[] = [];
  const sent: number[] = [];
  const answer = await withRetries(copies, { retries: 1, timeoutMs: 3000 }, {
    seq: 3,
    choose: () => list.find((c) => c.alive),
    noCopy: () => {
      throw new Error('no copy');
    },
    send: (c, attempt) => {
      sent.push(attempt);
      return c.request(attempt === 1 ? { do: 'wait', value: 1, flag } : { do: 'echo', value: 2 });
    },
    discard: (late) => discarded.push(late),
    exhausted: (err, c, attempts) => {
      throw deathError(err, { stage: 's', copy: c.copy, seq: 3 }, 'process', { attempts });
    },
  });
  expect(killedFor).toBeInstanceOf(CopyTimeoutError);
  expect(sent).toEqual([1, 2]);
  expect(answer.value).toBe(2);
  expect(list[0]).not.toBe(first);
  // The late answer came (the hung task finished in its grace) and went nowhere but discard.
  expect(discarded.map((d) => d.value)).toEqual([1]);
  expect(copies.stats).toMatchObject({ retried: 1, replaced: 1, timedOut: 1, batches: [3] });
});
