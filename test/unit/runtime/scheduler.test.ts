import { RecordBatch, tableFromArrays } from 'apache-arrow';
import { Channel } from '../../../src/runtime/channel';
import { Scheduler, type SchedulerSource } from '../../../src/runtime/scheduler';
import { OwnedBatch, type StageExecutor } from '../../../src/executors/types';
import type { SluiceError } from '../../../src/errors';

const batch = (seq: number) => tableFromArrays({ seq: Int32Array.of(seq) }).batches[0];
const seqOf = (b: RecordBatch) => b.getChild('seq')!.get(0) as number;

/** A source of `n` one-row batches that counts what was read. */
function countingSource(n: number) {
  const state = { read: 0, closed: false };
  const source: SchedulerSource = {
    async next() {
      if (state.read >= n) return { done: true, value: undefined };
      return { done: false, value: OwnedBatch.plain(-1, [batch(state.read++)], 'mem') };
    },
    async close() {
      state.closed = true;
    },
  };
  return { source, state };
}

interface Pending {
  item: OwnedBatch;
  resolve: (out: OwnedBatch) => void;
  reject: (err: unknown) => void;
}

/** An executor whose tasks finish only when the test says so. */
class ManualExecutor implements StageExecutor {
  readonly mode = 'inline' as const;
  readonly pending: Pending[] = [];
  flushes = 0;
  fatal?: (err: SluiceError) => void;
  onTask?: () => void;
  constructor(
    readonly stage: string,
    readonly copies: number,
    readonly slots = copies,
    private readonly flushOutput: RecordBatch[] = [],
  ) {}
  async start() {}
  process(item: OwnedBatch): Promise<OwnedBatch> {
    return item.consume(
      () =>
        new Promise<OwnedBatch>((resolve, reject) => {
          this.pending.push({ item, resolve, reject });
          this.onTask?.();
        }),
    );
  }
  async flush() {
    this.flushes++;
    return [OwnedBatch.plain(-1, this.flushOutput)];
  }
  async close() {}
  async abort() {}
  onFatal(l: (err: SluiceError) => void) {
    this.fatal = l;
  }
  stats() {
    return { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  }
  /** Finish the pending task for `seq`, echoing its input. */
  finish(seq: number) {
    const i = this.pending.findIndex((p) => p.item.seq === seq);
    const [p] = this.pending.splice(i, 1);
    p.resolve(OwnedBatch.plain(p.item.seq, p.item.batches));
  }
}

/** Runs until no more progress is possible without the test finishing a task. */
const settle = () => new Promise((r) => setImmediate(r));

function pipeline(n: number, executors: StageExecutor[], capacity: number, ordered = true) {
  const { source, state } = countingSource(n);
  const written: number[] = [];
  const channels = Array.from({ length: executors.length + 1 }, (_, i) => new Channel(`c${i}`, { capacity, capacityBytes: 1 << 30 }, ordered));
  const sink = { write: (item: OwnedBatch) => item.consume(() => void written.push(...item.batches.map(seqOf))) };
  const scheduler = new Scheduler(source, executors, sink, channels);
  return { scheduler, state, written, channels };
}

describe('Scheduler', () => {
  it('never reads more than the channel capacity ahead of a slow stage', async () => {
    const slow = new ManualExecutor('slow', 1);
    const { scheduler, state, written, channels } = pipeline(50, [slow], 3);
    const done = scheduler.run();
    let maxAhead = 0;
    for (let k = 0; k < 50; k++) {
      await settle();
      // read-ahead = read but not yet taken by the stage (+ the one in flight)
      maxAhead = Math.max(maxAhead, state.read - k);
      expect(slow.pending).toHaveLength(1);
      slow.finish(slow.pending[0].item.seq);
    }
    await done;
    expect(written).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // capacity 3 in the source channel + 1 being processed
    expect(maxAhead).toBeLessThanOrEqual(3 + 1);
    expect(maxAhead).toBeGreaterThanOrEqual(3); // the source did read ahead up to the bound
    expect(channels[0].peakDepth).toBeLessThanOrEqual(3);
    expect(scheduler.meters[0].peakInFlight).toBe(1);
  });

  it('counts what passed through each edge, and charges the time its producer waited for credit to the full one', async () => {
    let now = 0;
    const slow = new ManualExecutor('slow', 1);
    const { source } = countingSource(6);
    const channels = [new Channel('source→slow', { capacity: 2, capacityBytes: 1 << 30 }, true), new Channel('slow→sink', { capacity: 2, capacityBytes: 1 << 30 }, true)];
    const sink = { write: (item: OwnedBatch) => item.consume(() => undefined) };
    const scheduler = new Scheduler(source, [slow], sink, channels, () => now);
    const done = scheduler.run();
    await settle();
    // The source read ahead to the bound of source→slow and waits for credit there.
    expect(channels[0].holdingBack).toBe(true);
    now += 100;
    slow.finish(slow.pending[0].item.seq); // an event: the 100 ms are accounted
    await settle();
    for (let k = 1; k < 6; k++) {
      slow.finish(slow.pending[0].item.seq);
      await settle();
    }
    await done;
    expect(channels[0].creditWaitMs).toBe(100);
    expect(channels[1].creditWaitMs).toBe(0);
    for (const c of channels) expect(c.passed).toEqual({ batches: 6, rows: 6, bytes: expect.any(Number) });
    expect(channels[0].passed.bytes).toBeGreaterThan(0);
  });

  it('stops feeding a stage whose output channel is full (credit before dispatch)', async () => {
    const a = new ManualExecutor('a', 4);
    const b = new ManualExecutor('b', 1);
    const { scheduler, channels } = pipeline(20, [a, b], 2);
    const done = scheduler.run();
    await settle();
    // a has 4 slots, but only 2 output credits: at most 2 tasks may start
    expect(a.pending.length).toBe(2);
    expect(channels[1].depth).toBe(2);
    scheduler.fail(new Error('stop'));
    await expect(done).rejects.toThrow('stop');
  });

  it('keeps input order with concurrency > 1 when batches finish out of order', async () => {
    const stage = new ManualExecutor('par', 2);
    const { scheduler, written } = pipeline(6, [stage], 4);
    const done = scheduler.run();
    for (let round = 0; round < 3; round++) {
      await settle();
      expect(stage.pending).toHaveLength(2); // both copies busy at once
      const [first, second] = stage.pending.map((p) => p.item.seq);
      stage.finish(second); // the later batch finishes first
      await settle();
      stage.finish(first);
    }
    await done;
    expect(written).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('lets batches pass as they finish when unordered', async () => {
    const stage = new ManualExecutor('par', 2);
    const { scheduler, written } = pipeline(2, [stage], 4, false);
    const done = scheduler.run();
    await settle();
    stage.finish(1);
    await settle();
    stage.finish(0);
    await done;
    expect(written).toEqual([1, 0]);
  });

  it('flushes each stage once at end of stream and emits flush output last', async () => {
    const stage = new ManualExecutor('agg', 1, 1, [batch(99)]);
    stage.onTask = () => queueMicrotask(() => stage.finish(stage.pending[0].item.seq));
    const { scheduler, written } = pipeline(3, [stage], 2);
    await scheduler.run();
    expect(stage.flushes).toBe(1);
    expect(written).toEqual([0, 1, 2, 99]);
  });

  it('stops on the first failure, closes the source and rejects', async () => {
    const stage = new ManualExecutor('boom', 1);
    const { scheduler, state } = pipeline(10, [stage], 2);
    const done = scheduler.run();
    await settle();
    stage.pending[0].reject(new Error('stage exploded'));
    await expect(done).rejects.toThrow('stage exploded');
    expect(state.closed).toBe(true);
  });

  it('stops when an executor reports a fatal error between tasks', async () => {
    const stage = new ManualExecutor('dies', 1);
    const { scheduler } = pipeline(10, [stage], 2);
    const done = scheduler.run();
    await settle();
    stage.fatal!(new Error('worker exited') as SluiceError);
    await expect(done).rejects.toThrow('worker exited');
  });

  it('fails at once when it failed before it ran (a run aborted while it started), reading nothing', async () => {
    // The run's guard hands it an abort that came during start-up, before run() is called.
    const stage = new ManualExecutor('never', 1);
    const { scheduler, state, written } = pipeline(10, [stage], 2);
    scheduler.fail(new Error('aborted while starting'));
    await expect(scheduler.run()).rejects.toThrow('aborted while starting');
    expect(stage.pending).toEqual([]);
    expect(written).toEqual([]);
    expect(state.closed).toBe(true);
  });

  it('runs a plain conversion with no stages', async () => {
    const { scheduler, written } = pipeline(5, [], 2);
    await scheduler.run();
    expect(written).toEqual([0, 1, 2, 3, 4]);
  });
});
