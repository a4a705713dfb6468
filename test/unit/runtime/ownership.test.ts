/**
 * Ownership: every lease the source hands out and every lease a stage's output carries is
 * released exactly once, whatever happens: success, a stage failure, a sink failure, an
 * abort from outside with tasks still in flight. A lease released twice throws (the test's lease is strict where production
 * leases are forgiving), and none may be left held at the end.
 */
import { tableFromArrays } from 'apache-arrow';
import { OwnedBatch, type Lease, type StageExecutor } from '../../../src/executors/types';
import type { SluiceError } from '../../../src/errors';
import { Channel } from '../../../src/runtime/channel';
import { Scheduler, type SchedulerSink, type SchedulerSource } from '../../../src/runtime/scheduler';

/** Hands out leases and counts the ones still held; a second release is a bug and throws. */
class LeaseLedger {
  held = 0;
  issued = 0;
  lease(): Lease {
    this.held++;
    this.issued++;
    let released = false;
    return {
      release: () => {
        if (released) throw new Error('lease released twice');
        released = true;
        this.held--;
      },
    };
  }
}

const batch = (n: number) => tableFromArrays({ n: Int32Array.of(n) }).batches[0];

function source(ledger: LeaseLedger, n: number, failAt?: number): SchedulerSource {
  let read = 0;
  return {
    async next() {
      if (read === failAt) throw new Error('source failure');
      if (read >= n) return { done: true, value: undefined };
      return { done: false, value: new OwnedBatch({ seq: -1, batches: [batch(read++)], lease: ledger.lease() }) };
    },
    async close() {},
  };
}

/** A stage that answers each batch with a fresh output lease, or fails at batch `failAt`. */
class LeasingExecutor implements StageExecutor {
  readonly mode = 'thread' as const;
  readonly slots: number;
  readonly pending: Array<() => void> = [];
  constructor(
    private readonly ledger: LeaseLedger,
    readonly stage: string,
    readonly copies: number,
    private readonly opts: { failAt?: number; holdFrom?: number } = {},
  ) {
    this.slots = copies;
  }
  async start() {}
  // The executor contract: it owns its input from the call on and releases it once.
  process(item: OwnedBatch): Promise<OwnedBatch> {
    return item.consume(() => {
      if (item.seq === this.opts.failAt) throw new Error(`stage failure at ${item.seq}`);
      const out = () => new OwnedBatch({ seq: item.seq, batches: item.batches, lease: this.ledger.lease() });
      // From holdFrom on, tasks finish only when the test says so (work still in flight).
      if (this.opts.holdFrom !== undefined && item.seq >= this.opts.holdFrom) return new Promise<OwnedBatch>((resolve) => this.pending.push(() => resolve(out())));
      return out();
    });
  }
  async flush() {
    return Array.from({ length: this.copies }, () => new OwnedBatch({ seq: -1, batches: [batch(-1)], lease: this.ledger.lease() }));
  }
  async close() {}
  async abort() {}
  onFatal(_l: (err: SluiceError) => void) {}
  stats() {
    return { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  }
}

function sink(failAt?: number): SchedulerSink & { rows: number } {
  return {
    rows: 0,
    write(item: OwnedBatch) {
      return item.consume(() => {
        if (item.seq === failAt) throw new Error('sink failure');
        this.rows += item.batches.length;
      });
    },
  };
}

function scheduler(ledger: LeaseLedger, executors: StageExecutor[], snk: SchedulerSink, n = 20, sourceFailAt?: number) {
  const channels = Array.from({ length: executors.length + 1 }, (_, i) => new Channel(`c${i}`, { capacity: 3, capacityBytes: 1 << 30 }, true));
  return new Scheduler(source(ledger, n, sourceFailAt), executors, snk, channels);
}

const settle = () => new Promise((r) => setImmediate(r));

describe('every lease is released exactly once', () => {
  it('after success', async () => {
    const ledger = new LeaseLedger();
    const s = scheduler(ledger, [new LeasingExecutor(ledger, 'a', 2), new LeasingExecutor(ledger, 'b', 1)], sink());
    await s.run();
    expect(ledger.issued).toBe(20 + 20 + 22 + 3); // source; a's outputs; b's (a's two copies' flush outputs too); every copy's flush
    expect(ledger.held).toBe(0);
  });

  it.each([
    ['a stage failure (first stage)', { stageFailAt: [5, undefined] }],
    ['a stage failure (last stage)', { stageFailAt: [undefined, 7] }],
    ['a sink failure', { sinkFailAt: 4 }],
    ['a source failure', { sourceFailAt: 6 }],
  ] as const)('after %s', async (_name, how: { stageFailAt?: readonly [number | undefined, number | undefined]; sinkFailAt?: number; sourceFailAt?: number }) => {
    const ledger = new LeaseLedger();
    const executors = [new LeasingExecutor(ledger, 'a', 2, { failAt: how.stageFailAt?.[0] }), new LeasingExecutor(ledger, 'b', 2, { failAt: how.stageFailAt?.[1] })];
    const s = scheduler(ledger, executors, sink(how.sinkFailAt), 20, how.sourceFailAt);
    await expect(s.run()).rejects.toThrow(/failure/);
    await settle();
    expect(ledger.held).toBe(0);
  });

  it('after an abort from outside with tasks in flight that finish later', async () => {
    const ledger = new LeaseLedger();
    const slow = new LeasingExecutor(ledger, 'slow', 2, { holdFrom: 3 });
    const s = scheduler(ledger, [slow], sink());
    const running = s.run();
    while (slow.pending.length < 2) await settle();
    s.fail(new Error('aborted'));
    await expect(running).rejects.toThrow('aborted');
    for (const finish of slow.pending.splice(0)) finish(); // the copies answer after the abort
    await settle();
    expect(ledger.held).toBe(0);
  });
});
