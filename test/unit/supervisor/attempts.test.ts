/**
 * supervisor/attempts.ts without workers: a fake copy whose requests the test answers or
 * kills by hand. A death is retried on the replacement (same index), a stage error is not, the
 * last attempt's death is `exhausted` (naming the attempts), a timed-out attempt's late answer
 * is discarded (never delivered), and an unreplaceable stage is not retried at all.
 */
import { Copies, CopyTimeoutError, withRetries, type Attempt } from '../../../src/supervisor/attempts';
import { deathError } from '../../../src/supervisor/death';
import { CopyDiedError, type CopyExit, type RequestCopy } from '../../../src/supervisor/types';
import { StageError, WorkerExitError } from '../../../src/errors';
import { durationMs } from '../../../src/config/duration';

class FakeCopy implements RequestCopy<string, string> {
  static made = 0;
  readonly serial = FakeCopy.made++;
  exit: CopyExit | undefined;
  inFlight = 0;
  private readonly pending: { resolve(v: string): void; reject(e: unknown): void }[] = [];
  constructor(readonly copy: number) {}
  get alive() {
    return !this.exit;
  }
  async start() {}
  async close() {}
  async kill() {
    this.die({ exitCode: null, signal: 'SIGKILL' });
  }
  onDeath() {}
  request(): Promise<string> {
    this.inFlight++;
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  answer(v: string) {
    this.inFlight--;
    this.pending.shift()!.resolve(v);
  }
  fail(err: unknown) {
    this.inFlight--;
    this.pending.shift()!.reject(err);
  }
  die(exit: CopyExit) {
    if (this.exit) return;
    this.exit = exit;
    for (const p of this.pending.splice(0)) p.reject(new CopyDiedError(exit));
    this.inFlight = 0;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

function setup(opts: { unreplaceable?: string; retries?: number } = {}) {
  const list = [new FakeCopy(0)];
  const copies = new Copies<FakeCopy>(list, { start: async (i) => new FakeCopy(i), unreplaceable: () => opts.unreplaceable, retries: opts.retries ?? 2 });
  const discarded: string[] = [];
  const attempt: Attempt<FakeCopy, string> = {
    seq: 4,
    choose: () => list.find((c) => c.alive),
    noCopy: () => {
      throw new Error('no copy');
    },
    send: (c) => c.request(),
    discard: (late) => discarded.push(late),
    exhausted: (err, c, attempts, why) => {
      throw deathError(err, { stage: 's', copy: c.copy, seq: 4 }, 'process', { attempts, unreplaceable: why });
    },
  };
  return { list, copies, attempt, discarded };
}

it('a death is retried on a new copy at the same index; the answer comes once', async () => {
  const { list, copies, attempt } = setup();
  const first = list[0];
  const result = withRetries(copies, { retries: 2 }, attempt);
  await tick();
  first.die({ exitCode: 7, signal: null });
  await tick();
  await tick();
  expect(list[0]).not.toBe(first);
  expect(list[0].copy).toBe(0);
  list[0].answer('ok');
  await expect(result).resolves.toBe('ok');
  expect(copies.stats).toEqual({ retried: 1, replaced: 1, timedOut: 0, batches: [4] });
});

it("a stage's own error is its answer: not retried", async () => {
  const { list, copies, attempt } = setup();
  const result = withRetries(copies, { retries: 2 }, attempt);
  await tick();
  list[0].fail(new Error('stage threw'));
  await expect(result).rejects.toThrow('stage threw');
  expect(copies.stats.retried).toBe(0);
});

it('the last death fails naming stage, batch and the attempts', async () => {
  const { list, copies, attempt } = setup();
  const result = withRetries(copies, { retries: 1 }, attempt);
  for (let i = 0; i < 2; i++) {
    await tick();
    await tick();
    list[0].die({ exitCode: null, signal: 'SIGKILL' });
  }
  const err = await result.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkerExitError);
  expect((err as Error).message).toMatch(/stage "s", copy 0, batch #4: worker was killed by SIGKILL: after 2 attempts/);
});

it('a timed-out attempt is killed, retried, and its late answer discarded, never delivered', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  try {
    const { list, copies, attempt, discarded } = setup();
    const first = list[0];
    // The fake's kill rejects its requests, as a real copy's death does; this one answers late instead.
    first.kill = async () => undefined;
    const result = withRetries(copies, { retries: 1, timeoutMs: 1000 }, attempt);
    await tick();
    jest.advanceTimersByTime(1000);
    await tick();
    first.answer('late');
    first.exit = { exitCode: null, signal: 'SIGKILL' };
    await tick();
    await tick();
    list[0].answer('fresh');
    await expect(result).resolves.toBe('fresh');
    expect(discarded).toEqual(['late']);
    expect(copies.stats).toMatchObject({ retried: 1, timedOut: 1 });
  } finally {
    jest.useRealTimers();
  }
});

it('a stage that cannot be replayed (flush) is not retried: its death fails with the reason', async () => {
  const { list, copies, attempt } = setup({ unreplaceable: 'stage "s" has flush()' });
  const result = withRetries(copies, { retries: 2 }, attempt);
  await tick();
  list[0].die({ exitCode: 3, signal: null });
  await expect(result).rejects.toThrow(/batch #4: worker exited with code 3: stage "s" has flush\(\)/);
  expect(copies.stats.replaced).toBe(0);
});

describe('Copies.died: a death nobody asked for, decided the same way in every mode', () => {
  it('with retries and a stage that can be replayed: replaced at the same index, the run not failed', async () => {
    const { list, copies } = setup({ retries: 1 });
    const dead = list[0];
    dead.die({ exitCode: 7, signal: null });
    const failed: unknown[] = [];
    copies.died(dead, (why) => failed.push(why), (err) => failed.push(err));
    await tick();
    expect(failed).toEqual([]);
    expect(list[0]).not.toBe(dead);
    expect([list[0].copy, copies.stats.replaced]).toEqual([0, 1]);
  });

  it('without retries: the run fails (no reason given: none was asked for)', () => {
    const { list, copies } = setup({ retries: 0 });
    const failed: unknown[] = [];
    copies.died(list[0], (why) => failed.push(['fail', why]), (err) => failed.push(err));
    expect(failed).toEqual([['fail', undefined]]);
    expect(copies.stats.replaced).toBe(0);
  });

  it('with retries but a stage that cannot be replayed: the run fails saying why', () => {
    const { list, copies } = setup({ retries: 2, unreplaceable: 'it has flush()' });
    const failed: unknown[] = [];
    copies.died(list[0], (why) => failed.push(['fail', why]), (err) => failed.push(err));
    expect(failed).toEqual([['fail', 'it has flush()']]);
  });
});

it("a copy killed by the watchdog with a second request queued: that request is retried too (the kill's reason is a death)", async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  try {
    const { list, copies, attempt } = setup({ retries: 1 });
    const first = list[0];
    const why: CopyTimeoutError[] = [];
    // Like PiscinaCopy.kill(why): what it owes rejects with the reason it was killed for.
    first.kill = async (reason?: Error) => {
      why.push(reason as CopyTimeoutError);
      first.exit = { exitCode: null, signal: null };
      for (const p of (first as unknown as { pending: { reject(e: unknown): void }[] }).pending.splice(0)) p.reject(reason);
      first.inFlight = 0;
    };
    const a = withRetries(copies, { retries: 1, timeoutMs: 1000 }, { ...attempt, seq: 4 });
    const b = withRetries(copies, { retries: 1, timeoutMs: 5000 }, { ...attempt, seq: 6 });
    await tick();
    expect(first.inFlight).toBe(2);
    jest.advanceTimersByTime(1000);
    await tick();
    await tick();
    expect(why[0]).toBeInstanceOf(CopyTimeoutError);
    expect(why[0].seq).toBe(4);
    list[0].answer('a');
    list[0].answer('b');
    await expect(Promise.all([a, b])).resolves.toEqual(['a', 'b']);
    expect(copies.stats).toMatchObject({ retried: 2, replaced: 1, timedOut: 1, batches: [4, 6] });
  } finally {
    jest.useRealTimers();
  }
});

it('the death mapping: an uncaught error is a StageError, a timeout says so', () => {
  expect(deathError({ exitCode: 1, signal: null, error: new Error('boom') }, { stage: 's', seq: 1 }, 'process')).toBeInstanceOf(StageError);
  expect(deathError(new CopyTimeoutError(30_000), { stage: 's', seq: 1 }, 'process').message).toMatch(/batch #1 failed in process\(\): no answer within its timeout of 30 s/);
});

it.each([
  ['30s', 30_000],
  ['500ms', 500],
  ['2m', 120_000],
  [250, 250],
  ['0s', undefined],
  [-1, undefined],
  ['soon', undefined],
  ['30', undefined],
])('duration %p is %p ms', (text, ms) => {
  expect(durationMs(text)).toBe(ms);
});

describe('the watchdog costs a timer only where a timeout is set (issue 28: no per-task cost on the hand-off)', () => {
  // Counted, not timed: every request of a stage without `timeout` goes straight to its copy.
  afterEach(() => jest.restoreAllMocks());

  it('a request on a stage without a timeout arms no timer', async () => {
    const armed = jest.spyOn(global, 'setTimeout');
    const { list, copies, attempt } = setup();
    for (let i = 0; i < 3; i++) {
      const result = withRetries(copies, { retries: 2 }, attempt);
      list[0].answer(`ok ${i}`);
      await expect(result).resolves.toBe(`ok ${i}`);
    }
    expect(armed).not.toHaveBeenCalled();
  });

  it('with a timeout, one timer per attempt, cleared when the answer comes', async () => {
    const armed = jest.spyOn(global, 'setTimeout');
    const cleared = jest.spyOn(global, 'clearTimeout');
    const { list, copies, attempt } = setup();
    const result = withRetries(copies, { retries: 2, timeoutMs: 60_000 }, attempt);
    list[0].answer('ok');
    await expect(result).resolves.toBe('ok');
    expect(armed).toHaveBeenCalledTimes(1);
    expect(cleared).toHaveBeenCalledWith(armed.mock.results[0].value);
  });
});
