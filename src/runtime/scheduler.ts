/**
 * The scheduler loop. After every event (a read finished, a task finished, a write
 * finished) `pump()` takes a snapshot, asks `nextDecision` (runtime/decide.ts, a plain
 * function) what to do, does it, and asks again until nothing can happen before the next
 * event. The choices and the backpressure rules (runtime/policies.ts) live there; this file
 * only acts on them and moves owned batches.
 *
 * Ownership (DESIGN invariant 1): a batch is held by a channel, by the executor it was handed
 * to (which releases it), or by the sink (which releases it once written). The only releases
 * here are of what no one else can take: results that arrive after a failure, items left in
 * channels when the run stops, and empty items.
 *
 * Nothing is read or dispatched without reserved room downstream, so the items in flight
 * are bounded by the channel capacities whatever the input size. The first error wins:
 * everything stops and the caller aborts executors and sink.
 */
import type { OwnedBatch } from '../batch/owned';
import type { StageExecutor } from '../executors/types';
import { Channel, type Reservation } from './channel';
import { nextDecision, sourceWait, stageWait, type Decision, type Snapshot } from './decide';
import { StageMeter, type SinkMeter, type SourceMeter } from './metrics';

export type { SinkMeter, SourceMeter };

export interface SchedulerSource {
  /** Read the next batch (numbered by the scheduler); called only when there is room for it. */
  next(): Promise<IteratorResult<OwnedBatch>>;
  close(): Promise<void>;
}

export interface SchedulerSink {
  /** Write the item; the sink owns it from the call on and releases it once written or failed. */
  write(item: OwnedBatch): Promise<void>;
}

/**
 * A check on what one place passes on (`after`: the executor's index, -1 for the source), run
 * as each item leaves it; a throw fails the run there. The sink's one schema (run.ts) uses it.
 */
export interface OutputCheck {
  after: number;
  check(item: OwnedBatch, place: string): void;
}

export class Scheduler {
  readonly meters: StageMeter[];
  outputCheck: OutputCheck | undefined;
  readonly sourceMeter: SourceMeter = { rows: 0, batches: 0, bytes: 0, busyMs: 0, blockedMs: 0 };
  readonly sinkMeter: SinkMeter = { rows: 0, batches: 0, bytes: 0, busyMs: 0 };

  private readonly taken: number[];
  private readonly flushStarted: boolean[];
  /** Per stage, the sequence numbers of the batches its copies are running now. */
  private readonly running: Set<number>[];
  private nextSeq = 0;
  private lastReadBytes = 0;
  private reading = false;
  private sourceDone = false;
  private sourceBlocked = false;
  private sinkBusy = false;
  private finished = false;
  private failure: unknown;
  private pumping = false;
  private pumpAgain = false;
  private last = 0;
  private settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;

  constructor(
    private readonly source: SchedulerSource,
    readonly executors: readonly StageExecutor[],
    private readonly sink: SchedulerSink,
    /** `channels[i]` feeds executor i; the last one feeds the sink. */
    readonly channels: readonly Channel[],
    private readonly now: () => number = () => performance.now(),
  ) {
    if (channels.length !== executors.length + 1) throw new Error('scheduler: need one channel per stage plus one');
    this.meters = executors.map((e) => new StageMeter(e));
    this.taken = executors.map(() => 0);
    this.flushStarted = executors.map(() => false);
    this.running = executors.map(() => new Set<number>());
  }

  /** What the run waits for now, in words: the tasks in flight, the source, the sink. */
  describePending(): string {
    const parts: string[] = [];
    this.executors.forEach((e, i) => {
      const seqs = [...this.running[i]];
      if (seqs.length) parts.push(`stage "${e.stage}" (${e.mode}) on batch ${seqs.map((n) => `#${n}`).join(', ')}`);
      else if (this.flushStarted[i] && !this.channels[i + 1].isClosed) parts.push(`stage "${e.stage}" (${e.mode}) in flush()`);
    });
    if (this.reading) parts.push('the source reading its next batch');
    if (this.sinkBusy) parts.push('the sink writing');
    return parts.length ? parts.join('; ') : 'the scheduler';
  }

  /** Resolves when the sink has written everything; rejects with the first failure. */
  run(): Promise<void> {
    // Failed before it ran (the run was aborted while it started): nothing to start.
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    for (const e of this.executors) e.onFatal((err) => this.fail(err));
    this.last = this.now();
    this.pump();
    return done;
  }

  /** Stop everything; the first failure is the one reported. */
  fail(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = err;
    for (const channel of this.channels) for (const item of channel.drainAll()) item.release();
    this.source.close().catch(() => undefined);
    this.settle?.reject(err); // none yet: run() rejects at once
  }

  /** Runs the output check on `item` if it leaves place `i`; false (the run failed, the item released) if it throws. */
  private passes(i: number, item: OwnedBatch, flush = false): boolean {
    const check = this.outputCheck;
    if (!check || check.after !== i || item.batches.length === 0) return true;
    const from = item.sourceFile ? ` (from ${item.sourceFile})` : '';
    const place = i < 0 ? `the source's batch #${item.seq}${from}` : `stage "${this.executors[i].stage}", ${flush ? 'flush() output as ' : ''}batch #${item.seq}${from}`;
    try {
      check.check(item, place);
      return true;
    } catch (err) {
      item.release();
      this.fail(err);
      return false;
    }
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  get sourceFinished(): boolean {
    return this.sourceDone;
  }

  /** The state the decisions look at: plain data, built fresh for every decision. */
  snapshot(): Snapshot {
    return {
      stages: this.executors.map((e, i) => ({ name: e.stage, inFlight: this.meters[i].inFlight, slots: e.slots, flushStarted: this.flushStarted[i] })),
      channels: this.channels.map((c) => c.view()),
      source: { reading: this.reading, done: this.sourceDone, lastBytes: this.lastReadBytes },
      sink: { busy: this.sinkBusy },
    };
  }

  /** Attribute the time since the last decision to the states that held during it. */
  private account(): void {
    const now = this.now();
    const dt = now - this.last;
    this.last = now;
    for (const m of this.meters) m.account(dt, now);
    if (this.reading) this.sourceMeter.busyMs += dt;
    else if (this.sourceBlocked) this.sourceMeter.blockedMs += dt;
    if (this.sinkBusy) this.sinkMeter.busyMs += dt;
  }

  private pump(): void {
    if (this.finished) return;
    // Decisions are made by one pump at a time; an event during a pump asks for one more round.
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      this.account();
      do {
        this.pumpAgain = false;
        for (let d = nextDecision(this.snapshot()); d && !this.finished; d = nextDecision(this.snapshot())) this.apply(d);
      } while (this.pumpAgain && !this.finished);
      if (!this.finished) this.noteWaits();
    } catch (err) {
      this.fail(err);
    } finally {
      this.pumping = false;
    }
  }

  private apply(d: Decision): void {
    switch (d.kind) {
      case 'write':
        return this.write();
      case 'finish':
        this.finished = true;
        this.account();
        return this.settle!.resolve();
      case 'dispatch':
        return this.dispatch(d.stage);
      case 'flush':
        return this.flushStage(d.stage);
      case 'read':
        return this.read();
    }
  }

  /** Why each stage (and the source) waits until the next event: time accounting and the display. */
  private noteWaits(): void {
    const s = this.snapshot();
    this.meters.forEach((m, i) => {
      const wait = stageWait(s, i);
      m.waitReason = wait.reason;
      m.reason = wait.state === 'idle' ? 'idle' : wait.state === 'held' ? 'blocked' : 'none';
    });
    const src = sourceWait(s);
    this.sourceMeter.waitReason = src.reason;
    this.sourceBlocked = src.state === 'held';
  }

  private write(): void {
    const item = this.channels[this.channels.length - 1].take();
    if (item.batches.length === 0) {
      item.release();
      return;
    }
    this.sinkBusy = true;
    const { rows, bytes } = item;
    const batches = item.batches.length;
    this.sink.write(item).then(
      () => {
        if (!this.finished) this.account();
        this.sinkBusy = false;
        this.sinkMeter.batches += batches;
        this.sinkMeter.rows += rows;
        this.sinkMeter.bytes += bytes;
        this.pump();
      },
      (err) => this.fail(err),
    );
  }

  private dispatch(i: number): void {
    const executor = this.executors[i];
    const meter = this.meters[i];
    const item = this.channels[i].take();
    const reservation = this.channels[i + 1].reserve(item.bytes);
    this.taken[i]++;
    meter.batchesIn += item.batches.length;
    meter.rowsIn += item.rows;
    meter.bytesIn += item.bytes;
    if (item.batches.length === 0) {
      // Nothing to do, but the sequence number must still pass (ordered mode).
      this.channels[i + 1].fulfil(reservation, item);
      return;
    }
    meter.started(item.seq, this.last);
    this.running[i].add(item.seq);
    const { seq } = item;
    // The executor owns `item` from here and releases it, whatever happens.
    executor.process(item)
      .then(
        (out) => this.taskDone(i, seq, reservation, out),
        (err) => this.fail(err),
      )
      .catch((err: unknown) => this.fail(err)); // a channel refusing the result (channel.ts): the run's failure, not an unhandled rejection
  }

  private taskDone(i: number, seq: number, reservation: Reservation, out: OwnedBatch): void {
    if (!this.finished) this.account(); // the interval that just ended still had this task in flight
    const meter = this.meters[i];
    meter.ended(seq, this.last, out.rows);
    this.running[i].delete(seq);
    if (this.finished) {
      out.release();
      return;
    }
    meter.batchesOut += out.batches.length;
    meter.rowsOut += out.rows;
    meter.bytesOut += out.bytes;
    if (!this.passes(i, out)) return;
    this.channels[i + 1].fulfil(reservation, out);
    this.pump();
  }

  private flushStage(i: number): void {
    this.flushStarted[i] = true;
    const meter = this.meters[i];
    const output = this.channels[i + 1];
    meter.started(-1, this.last);
    this.executors[i].flush().then(
      (outputs) => {
        if (!this.finished) this.account();
        meter.ended(-1, this.last, outputs.reduce((n, out) => n + out.rows, 0));
        meter.finished = true;
        if (this.finished) {
          for (const out of outputs) out.release();
          return;
        }
        // Flush output follows every input item: sequence numbers continue after them.
        let seq = this.taken[i];
        for (const [k, out] of outputs.entries()) {
          if (out.batches.length === 0) {
            out.release();
            continue;
          }
          meter.batchesOut += out.batches.length;
          meter.rowsOut += out.rows;
          meter.bytesOut += out.bytes;
          const numbered = out.moveTo({ seq: seq++ });
          if (!this.passes(i, numbered, true)) {
            for (const rest of outputs.slice(k + 1)) rest.release();
            return;
          }
          output.force(numbered);
        }
        output.close();
        this.pump();
      },
      (err) => this.fail(err),
    ).catch((err: unknown) => this.fail(err));
  }

  private read(): void {
    const output = this.channels[0];
    this.reading = true;
    const reservation = output.reserve(this.lastReadBytes);
    this.source.next().then(
      (r) => {
        if (!this.finished) this.account();
        this.reading = false;
        if (this.finished) {
          if (!r.done) r.value.release();
          return;
        }
        if (r.done) {
          output.cancel(reservation);
          this.sourceDone = true;
          output.close();
        } else {
          const item = r.value.moveTo({ seq: this.nextSeq++ });
          this.lastReadBytes = item.bytes;
          this.sourceMeter.batches += item.batches.length;
          this.sourceMeter.rows += item.rows;
          this.sourceMeter.bytes += item.bytes;
          if (!this.passes(-1, item)) return;
          output.fulfil(reservation, item);
        }
        this.pump();
      },
      (err) => this.fail(err),
    ).catch((err: unknown) => this.fail(err));
  }
}
