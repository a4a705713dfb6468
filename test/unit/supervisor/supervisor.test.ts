/**
 * The copy supervisor: a copy is started, asked, closed, killed, and its death is one signal
 * (with its exit code, or the uncaught error that took it down), whatever the transport.
 */
import path from 'node:path';
import { PiscinaCopy } from '../../../src/supervisor/piscina';
import { ThreadCopy } from '../../../src/supervisor/thread';
import { CopyDiedError, leastBusy, stopEscalating, type CopyExit } from '../../../src/supervisor/types';
import { CopyTimeoutError } from '../../../src/supervisor/death';

const WORKERS = path.resolve(__dirname, '../../fixtures/workers');
type Task = { do: string; value?: number; code?: number; ms?: number; started?: Int32Array };

describe('PiscinaCopy (one copy of a thread stage)', () => {
  let copy: PiscinaCopy<Task, { threadId: number; value?: number }>;
  let deaths: CopyExit[];
  beforeEach(async () => {
    copy = new PiscinaCopy({ entry: path.join(WORKERS, 'piscina-task.cjs'), workerData: null, copy: 1 });
    deaths = [];
    copy.onDeath((exit) => deaths.push(exit));
    await copy.start();
  });
  afterEach(() => copy.kill());

  it('answers requests on its own one thread, counting what is in flight', async () => {
    const pending = [copy.request({ do: 'echo', value: 1 }), copy.request({ do: 'echo', value: 2 })];
    expect(copy.inFlight).toBe(2);
    const answers = await Promise.all(pending);
    expect(answers.map((a) => a.value)).toEqual([1, 2]);
    expect(new Set(answers.map((a) => a.threadId)).size).toBe(1);
    expect(copy.inFlight).toBe(0);
    expect(copy.alive).toBe(true);
  });

  it('kill() lets the task it is running finish before the thread goes (a termination inside polars panics)', async () => {
    // Running, not queued: piscina cancels a task still in its queue (a loaded machine may not
    // have started it yet when kill() comes).
    const started = new Int32Array(new SharedArrayBuffer(4));
    const running = copy.request({ do: 'spin', ms: 300, value: 7, started });
    await (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { value: Promise<string> | string } }).waitAsync(started, 0, 0).value; // ES2024 (Node 16+), past tsconfig's lib
    await copy.kill();
    await expect(running).resolves.toMatchObject({ value: 7 });
    expect(copy.alive).toBe(false);
  });

  it('kill(why) with a task queued behind the running one: the queued request rejects with `why` (a death, retried), not with piscina\'s abort error', async () => {
    // What the watchdog does to a hung copy that had a second task queued (a copy given two
    // while its sibling was being replaced): piscina cancels the queued one with its own
    // error, which read as the stage's own error and failed the run instead of a retry.
    const started = new Int32Array(new SharedArrayBuffer(4));
    const running = copy.request({ do: 'spin', ms: 200, value: 1, started });
    const queued = copy.request({ do: 'echo', value: 2 }).catch((e: unknown) => e);
    await (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { value: Promise<string> | string } }).waitAsync(started, 0, 0).value;
    const why = new CopyTimeoutError(1000, 5);
    await copy.kill(why);
    expect(await queued).toBe(why);
    await expect(running).resolves.toMatchObject({ value: 1 }); // the running one still finishes in its grace
    await expect(copy.request({ do: 'echo' })).rejects.toBeInstanceOf(CopyDiedError);
  });

  it('kill() does not wait past its grace for a task that never ends: the request rejects', async () => {
    const hung = new PiscinaCopy<Task, { threadId: number }>({ entry: path.join(WORKERS, 'piscina-task.cjs'), workerData: null, copy: 2, stopGraceMs: 50 });
    await hung.start();
    const rejected = expect(hung.request({ do: 'hang' })).rejects.toThrow();
    await hung.kill();
    await rejected;
  });

  it('process.exit() inside a task: the request rejects with the exit code (never left pending, piscina#304), and the death is signalled once', async () => {
    const err = await copy.request({ do: 'exit', code: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(CopyDiedError);
    expect(err.exit).toMatchObject({ exitCode: 3, signal: null });
    expect(deaths).toEqual([expect.objectContaining({ exitCode: 3 })]);
    expect(copy.alive).toBe(false);
    // a dead copy refuses work at once
    await expect(copy.request({ do: 'echo' })).rejects.toBeInstanceOf(CopyDiedError);
    expect(deaths).toHaveLength(1);
  });

  it('an error thrown between tasks is the death signal, carrying that error (piscina would replace the thread quietly)', async () => {
    await copy.request({ do: 'throw-later' });
    const exit = await new Promise<CopyExit>((resolve) => copy.onDeath(resolve));
    expect((exit.error as Error).message).toBe('thrown from a timer between tasks');
    const err = await copy.request({ do: 'echo' }).catch((e) => e);
    expect(err).toBeInstanceOf(CopyDiedError);
    expect((err.exit.error as Error).message).toBe('thrown from a timer between tasks');
  });

  it('kill() ends it at once: what it ran is rejected, and no death is signalled', async () => {
    const hanging = copy.request({ do: 'hang' }).catch((e) => e);
    await copy.kill();
    expect(await hanging).toBeInstanceOf(Error);
    expect(deaths).toEqual([]);
  });
});

describe('ThreadCopy (the source and encoder threads)', () => {
  const open = async () => {
    const copy = new ThreadCopy<{ type: string; n?: number; code?: number }, { type: string; n?: number }>({
      entry: path.join(WORKERS, 'message-thread.cjs'),
      closeMessage: { type: 'close' },
      closeGraceMs: 200,
    });
    const deaths: CopyExit[] = [];
    copy.onDeath((exit) => deaths.push(exit));
    await copy.start();
    return { copy, deaths };
  };

  it('talks in messages and closes without a death signal', async () => {
    const { copy, deaths } = await open();
    const pong = new Promise((resolve) => copy.onMessage(resolve));
    copy.send({ type: 'ping', n: 7 });
    expect(await pong).toEqual({ type: 'pong', n: 7 });
    await copy.close();
    expect(copy.exit).toBeDefined();
    expect(deaths).toEqual([]);
  });

  it('a thread that ignores close is ended after the grace time', async () => {
    const { copy, deaths } = await open();
    copy.send({ type: 'ignore-close' });
    await copy.close();
    expect(copy.alive).toBe(false);
    expect(deaths).toEqual([]);
  });

  it.each([
    ['exits', { type: 'exit', code: 4 }, (exit: CopyExit) => expect(exit).toMatchObject({ exitCode: 4 })],
    ['throws outside any handler', { type: 'throw' }, (exit: CopyExit) => expect((exit.error as Error).message).toBe('message thread blew up')],
  ])('a thread that %s on its own: one death signal saying how', async (_, message, check) => {
    const { copy, deaths } = await open();
    const died = new Promise<CopyExit>((resolve) => copy.onDeath(resolve));
    copy.send(message);
    check(await died);
    expect(deaths).toHaveLength(1);
    await copy.kill();
    expect(deaths).toHaveLength(1);
  });
});

describe('placement and stopping', () => {
  it('leastBusy: the live copy with the fewest tasks and room for one more, lowest index on ties', () => {
    const c = (inFlight: number, alive = true) => ({ inFlight, alive });
    const copies = [c(2), c(1), c(1), c(0, false)];
    expect(leastBusy(copies, 2)).toBe(copies[1]);
    expect(leastBusy([c(2), c(2)], 2)).toBeUndefined();
    expect(leastBusy([c(0, false)], Infinity)).toBeUndefined();
  });

  it('stopEscalating: asks, then SIGTERM, then SIGKILL, in that order, only as far as needed', async () => {
    const sent: string[] = [];
    let exit!: () => void;
    const exited = new Promise<void>((resolve) => (exit = resolve));
    const byItself = await stopEscalating(exited, (s) => (sent.push(s), s === 'SIGKILL' && exit()), { closeMs: 5, killMs: 5 }, () => undefined);
    expect([byItself, sent]).toEqual([false, ['SIGTERM', 'SIGKILL']]);
    sent.length = 0;
    expect(await stopEscalating(Promise.resolve(), (s) => sent.push(s), { closeMs: 5, killMs: 5 }, () => undefined)).toBe(true);
    expect(sent).toEqual([]);
  });
});
