import { tableFromArrays } from 'apache-arrow';
import { Channel } from '../../../src/runtime/channel';
import { Scheduler, type SchedulerSource } from '../../../src/runtime/scheduler';
import { snapshotOf } from '../../../src/runtime/progress';
import { TimelineRecorder } from '../../../src/runtime/timeline';
import { SampleRecorder } from '../../../src/runtime/samples';
import { OwnedBatch, type StageExecutor } from '../../../src/executors/types';

describe('TimelineRecorder', () => {
  it('draws each copy busy while a task holds it, and free lanes in the state the scheduler gave', () => {
    const t = new TimelineRecorder(2);
    t.account(0, 10, 'idle'); // nothing yet
    t.started(0, 10);
    t.account(10, 30, 'idle'); // lane 0 busy, lane 1 idle for input
    t.started(1, 30);
    t.account(30, 40, 'blocked');
    t.finished(0, 40, 5);
    t.account(40, 50, 'blocked'); // lane 0 free, blocked on output
    t.finished(1, 50, 7);
    t.account(50, 60, 'done');
    const out = t.export('s', 0);
    expect(out.lanes[0]).toEqual([
      [0, 10, 'idle'],
      [10, 40, 'busy'],
      [40, 50, 'blocked'],
      [50, 60, 'done'],
    ]);
    expect(out.lanes[1]).toEqual([
      [0, 30, 'idle'], // neighbours in one state are one interval
      [30, 50, 'busy'],
      [50, 60, 'done'],
    ]);
    expect(out.batches).toEqual([
      [0, 0, 10, 40, 5],
      [1, 1, 30, 50, 7],
    ]);
  });

  it('never has more busy lanes than copies: a pipelined task waits for a lane', () => {
    const t = new TimelineRecorder(1);
    t.started(0, 0);
    t.started(1, 0); // a process copy takes a second task while busy
    t.account(0, 10, 'idle');
    t.finished(0, 10, 1);
    t.account(10, 20, 'idle'); // task 1 now holds the lane
    t.finished(1, 20, 1);
    const out = t.export('p', 0);
    expect(out.lanes).toHaveLength(1);
    expect(out.lanes[0]).toEqual([[0, 20, 'busy']]);
    expect(out.batches).toEqual([
      [0, 0, 0, 10, 1],
      [1, 0, 10, 20, 1],
    ]);
  });

  it('stays bounded on a long run: intervals merge (the longer state wins) and batches thin out', () => {
    const t = new TimelineRecorder(1, { intervalsPerLane: 50, batches: 40 });
    let now = 0;
    for (let seq = 0; seq < 10_000; seq++) {
      t.account(now, now + 1, 'idle'); // 1 ms idle
      t.started(seq, now + 1);
      t.account(now + 1, now + 4, 'idle'); // 3 ms busy
      t.finished(seq, now + 4, 1);
      now += 4;
    }
    const out = t.export('long', 0);
    expect(out.lanes[0].length).toBeLessThanOrEqual(50);
    expect(out.lanes[0].length).toBeGreaterThan(10);
    expect(out.lanes[0].every(([, , state]) => state === 'busy')).toBe(true); // busy 3 of every 4 ms
    expect(out.lanes[0][0][0]).toBe(0);
    expect(out.lanes[0][out.lanes[0].length - 1][1]).toBe(now); // still covers the whole run
    expect(out.batches.length).toBeLessThanOrEqual(40);
    expect(out.batches.length).toBeGreaterThan(10);
    expect(out.batchStride).toBeGreaterThan(1);
    // evenly thinned: kept batches are every batchStride-th
    expect(out.batches.map((b) => b[0]).every((seq) => seq % out.batchStride === 0)).toBe(true);
  });
});

describe('SampleRecorder', () => {
  it('keeps at most `cap` samples, evenly spaced, with the highest depth of merged ones', () => {
    let now = 0;
    let depth = 0;
    const view = { meters: [], channels: [{ get depth() { return depth; } }], sourceMeter: { rows: 0, batches: 0, bytes: 0, busyMs: 0, blockedMs: 0 }, sinkMeter: { rows: 0, batches: 0, bytes: 0, busyMs: 0 }, sourceFinished: false };
    const rec = new SampleRecorder(view, 0, ['source→sink'], 10, 20, () => now, () => 1000);
    for (let i = 0; i < 500; i++) {
      now += 10;
      depth = i === 250 ? 99 : 1;
      view.sourceMeter.rows = i;
      rec.tick();
    }
    rec.stop(); // one last sample of where the run ended
    const out = rec.export();
    expect(out.samples.length).toBeLessThanOrEqual(20);
    expect(out.samples.length).toBeGreaterThan(5);
    expect(out.intervalMs).toBeGreaterThan(10);
    expect(Math.max(...out.samples.map((s) => s.depths[0]))).toBe(99); // a spike survives merging
    const ts = out.samples.map((s) => s.t);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(out.samples[out.samples.length - 1].sourceRows).toBe(499); // cumulative counters end current
  });
});

/** One copy that takes two tasks at once (as a process copy does): finishes only when told. */
class PipelinedExecutor implements StageExecutor {
  readonly mode = 'process' as const;
  readonly stage = 'proc';
  readonly copies = 1;
  readonly slots = 2;
  readonly pending: { item: OwnedBatch; resolve: (o: OwnedBatch) => void }[] = [];
  async start() {}
  process(item: OwnedBatch): Promise<OwnedBatch> {
    return item.consume(() => new Promise<OwnedBatch>((resolve) => this.pending.push({ item, resolve })));
  }
  async flush() {
    return [];
  }
  async close() {}
  async abort() {}
  onFatal() {}
  stats() {
    return { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  }
}

describe('progress snapshot of a one-copy process stage', () => {
  it('shows busy 1/1 with one task queued behind it, never busy 2/1', async () => {
    const batch = tableFromArrays({ x: Int32Array.of(1) }).batches[0];
    let read = 0;
    const source: SchedulerSource = {
      async next() {
        return read < 4 ? { done: false, value: OwnedBatch.plain(-1, [batch], 'mem') } : { done: true, value: undefined };
      },
      async close() {},
    };
    void (read = 0);
    const exec = new PipelinedExecutor();
    const channels = [0, 1].map((i) => new Channel(`c${i}`, { capacity: 4, capacityBytes: 1 << 30 }, true));
    const scheduler = new Scheduler(
      { next: () => (read++, source.next()), close: source.close },
      [exec],
      { write: async (item: OwnedBatch) => item.release() },
      channels,
    );
    const done = scheduler.run();
    await new Promise((r) => setImmediate(r));
    expect(exec.pending).toHaveLength(2); // both slots taken: that is what showed `busy 2/1`
    const snap = snapshotOf(scheduler, 0, () => 0);
    expect(snap.stages[0]).toMatchObject({ inFlight: 2, busy: 1, copies: 1 });
    expect(snap.stages[0].waitReason).toBeUndefined(); // its one copy is busy: nothing waits
    scheduler.fail(new Error('stop'));
    await expect(done).rejects.toThrow('stop');
  });
});
