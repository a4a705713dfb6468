/**
 * A copy that dies before the scheduler listens (between the stage's start and Scheduler.run(),
 * or while the stage's other copies still start) is the run's failure the moment the scheduler
 * listens: the run fails naming stage and copy before any batch is dispatched, instead of doing
 * all its work on the copies left and failing at flush (thread) or not noticing it (a process
 * child that died while the others started). Every executor with copies of its own: thread,
 * process, and the Parquet encoding stage.
 *
 * When the death has been seen is read from the copy's own state (polled: another thread's or
 * process's end, not a timing), since the executor's only public signal of it is the very
 * listener these tests register late.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import pino from 'pino';
import { OwnedBatch } from '../../../src/batch/owned';
import { WorkerExitError } from '../../../src/errors';
import { ProcessExecutor } from '../../../src/executors/process';
import { ThreadExecutor } from '../../../src/executors/thread';
import type { StageExecutor } from '../../../src/executors/types';
import { ParquetEncodeExecutor } from '../../../src/operators/parquet-encode';
import type { PlannedStage } from '../../../src/plan/types';
import { Channel } from '../../../src/runtime/channel';
import { Scheduler, type SchedulerSource } from '../../../src/runtime/scheduler';
import { FirstFatal } from '../../../src/supervisor/first-fatal';
import { SLOTS_PER_COPY } from '../../../src/defaults';
import { waitFor } from '../../helpers/fair-clock';

const FIXTURE = path.resolve(__dirname, '../../fixtures/stages/dies-after-setup.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-fatal-'));
const log = pino({ level: 'silent' });
let started: StageExecutor[] = [];
afterEach(async () => {
  await Promise.all(started.map((e) => e.abort()));
  started = [];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function planned(mode: 'thread' | 'process', options: Record<string, unknown>): PlannedStage {
  return { name: `dies-${mode}`, modulePath: FIXTURE, mode, copies: 2, slotsPerCopy: SLOTS_PER_COPY[mode], options, output: { capacity: 4, capacityBytes: 1 << 20 } };
}

/** Resolves once `test()` holds (polled). */
async function until(what: string, test: () => boolean): Promise<void> {
  await waitFor(test, what, 20_000); // of a fair share of the CPU: a busy machine is not a hang
}

/** Copy `n` of the executor as its own copy object says (thread: its piscina copy; process: its child). */
function copyState(e: StageExecutor, n: number): { exit?: unknown; started?: boolean } {
  const inside = e as unknown as { copiesRunning?: { exit?: unknown }[]; children?: { exit?: unknown; started?: boolean }[] };
  return (inside.copiesRunning ?? inside.children ?? [])[n] ?? {};
}

/**
 * The scheduler over `e` with a source of `n` batches: the run's outcome, and how many batches
 * the stage was given (`process` calls) and the source read.
 */
async function runOver(e: StageExecutor, n = 8) {
  let given = 0;
  let read = 0;
  const counted: StageExecutor = Object.assign(Object.create(e) as StageExecutor, {
    process: (item: OwnedBatch) => {
      given++;
      return e.process(item);
    },
    onFatal: (l: Parameters<StageExecutor['onFatal']>[0]) => e.onFatal(l),
  });
  const source: SchedulerSource = {
    async next() {
      if (read >= n) return { done: true, value: undefined };
      return { done: false, value: OwnedBatch.plain(-1, [tableFromArrays({ x: Int32Array.of(read++) }).batches[0]]) };
    },
    async close() {},
  };
  const channels = [0, 1].map((i) => new Channel(`c${i}`, { capacity: 4, capacityBytes: 1 << 20 }, true));
  const sink = { write: (item: OwnedBatch) => item.consume(() => undefined) };
  const outcome = await new Scheduler(source, [counted], sink, channels).run().then(
    () => undefined,
    (err: unknown) => err,
  );
  return { outcome, given, read };
}

describe.each(['thread', 'process'] as const)('a %s stage whose copy 1 dies after its setup, before the scheduler listens', (mode) => {
  it.each([
    ['after the stage started', false],
    ['while its other copy still starts', true],
  ])('%s: the run fails at once naming stage and copy 1, and copy 0 is given no batch', async (_when, gated) => {
    const [gate, die] = [path.join(dir, `${mode}-${gated}.gate`), path.join(dir, `${mode}-${gated}.die`)];
    // A child dies on the test's word, once main has its ready message (its I/O thread writes it); a thread at once.
    const options = { dies: 1, ...(gated && { gate }), ...(mode === 'process' && { die }) };
    const e = mode === 'thread' ? new ThreadExecutor(planned(mode, options), { log }) : new ProcessExecutor(planned(mode, options), { log });
    started.push(e);
    const starting = e.start();
    if (mode === 'process') {
      if (gated) await until('copy 1 to be set up', () => copyState(e, 1).started === true);
      else await starting;
      writeFileSync(die, '');
    }
    await until(`copy 1 of the ${mode} stage to die`, () => copyState(e, 1).exit !== undefined);
    if (gated) writeFileSync(gate, '');
    // Copy 0 started: the stage is up, with a dead copy. Or the stage's start fails with copy 1's
    // death: a thread copy's answer to setup and its exit race in piscina, which, when it sees
    // the exit first, fails the pending setup with it and drops the answer with the thread's
    // port. Either way the death is the run's failure before any batch is given.
    const startFailure: unknown = await starting.then(
      () => undefined,
      (err: unknown) => err,
    );
    await new Promise((r) => setImmediate(r)); // a thread's death is told a turn after its exit (its task's own error first)
    const { outcome, given } = startFailure === undefined ? await runOver(e) : { outcome: startFailure, given: 0 };
    expect(outcome).toBeInstanceOf(WorkerExitError);
    expect((outcome as WorkerExitError).location).toMatchObject({ stage: `dies-${mode}`, copy: 1 });
    expect((outcome as WorkerExitError).exitCode).toBe(3);
    expect(given).toBe(0);
  });
});

it('the Parquet encoding stage: an encoder thread that dies before the scheduler listens fails the run at once, naming the thread', async () => {
  const stage: PlannedStage = {
    name: 'parquet-encode',
    modulePath: '',
    mode: 'thread',
    copies: 2,
    slotsPerCopy: 1,
    options: {},
    output: { capacity: 4, capacityBytes: 1 << 20 },
    encode: { input: 'batches', rowGroupSize: 4, compression: 'uncompressed', target: path.join(dir, 'out.parquet'), partitioned: false },
  };
  const e = new ParquetEncodeExecutor(stage, { log });
  started.push(e);
  await e.start();
  const pool = (e as unknown as { pool: { threadExits: unknown[]; threads: { copy: { worker: { terminate(): Promise<number> } } }[] } }).pool;
  // Ended from outside, as a crash would: nobody asked it to stop.
  await pool.threads[0].copy.worker.terminate();
  await until('the encoder thread to be gone', () => pool.threadExits[0] !== undefined);
  const { outcome, given } = await runOver(e);
  // Named as any copy's death (supervisor/death.ts): the stage, the thread, and why it is not replaced.
  expect(outcome).toBeInstanceOf(WorkerExitError);
  expect((outcome as WorkerExitError).location).toMatchObject({ stage: 'parquet-encode', copy: 0 });
  expect((outcome as Error).message).toMatch(/stage "parquet-encode", copy 0: worker exited with code \d+: the Parquet encoder thread 0; sluice's own thread, not replaced/);
  expect(given).toBe(0);
});

it('an encoder thread that dies mid-run, with retries asked for: not replaced (sluice\'s own thread), the error names the stage, the thread and the batch whose rows it held', async () => {
  const stage: PlannedStage = {
    name: 'parquet-encode',
    modulePath: '',
    mode: 'thread',
    copies: 1,
    slotsPerCopy: 1,
    options: {},
    retries: 2,
    output: { capacity: 4, capacityBytes: 1 << 20 },
    // Row groups of 1000 rows: the batch's 10 rows wait in the open group, on the thread.
    encode: { input: 'batches', rowGroupSize: 1000, compression: 'uncompressed', target: path.join(dir, 'mid.parquet'), partitioned: false },
  };
  const e = new ParquetEncodeExecutor(stage, { log });
  started.push(e);
  await e.start();
  const fatal = new Promise<unknown>((resolve) => e.onFatal(resolve));
  const out = await e.process(new OwnedBatch({ seq: 4, sourceFile: 'in.csv', batches: tableFromArrays({ x: Int32Array.from({ length: 10 }, (_, i) => i) }).batches }));
  out.release();
  const pool = (e as unknown as { pool: { threads: { copy: { worker: { terminate(): Promise<number> } } }[] } }).pool;
  await pool.threads[0].copy.worker.terminate(); // from outside, as a crash or an OOM would
  const err = await fatal;
  expect(err).toBeInstanceOf(WorkerExitError);
  expect((err as WorkerExitError).location).toEqual({ stage: 'parquet-encode', copy: 0, seq: 4, sourceFile: 'in.csv' });
  expect((err as Error).message).toMatch(/^stage "parquet-encode", copy 0, batch #4, from in.csv: worker exited with code \d+: the Parquet encoder thread 0; sluice's own thread, not replaced/);
  await expect(e.flush()).rejects.toBe(err);
});

describe('FirstFatal (the shared piece)', () => {
  it('keeps the first error for a listener that comes later, drops the later ones, and tells every listener once', () => {
    const f = new FirstFatal<string>();
    const early: string[] = [];
    f.listen((e) => early.push(e));
    expect(f.report('first')).toBe(true);
    expect(f.report('second')).toBe(false);
    const late: string[] = [];
    f.listen((e) => late.push(e));
    expect([early, late, f.error]).toEqual([['first'], ['first'], 'first']);
  });

  it('a listener that throws does not keep the others from hearing; its error is rethrown after', () => {
    const f = new FirstFatal<string>();
    const heard: string[] = [];
    f.listen(() => {
      throw new Error('listener bug');
    });
    f.listen((e) => heard.push(e));
    expect(() => f.report('x')).toThrow('listener bug');
    expect(heard).toEqual(['x']);
  });
});
