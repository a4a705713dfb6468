/**
 * The scheduler loop. After every event (a read finished, a task finished, a write
 * finished) `pump()` makes all decisions that became possible, in three phases,
 * downstream first so freed room is used before new work is read:
 *
 *   1. sink:   write the next ready item of the last channel (one write at a time);
 *   2. stages: from last to first, dispatch ready input while a slot is free AND the
 *              output channel grants credit (a slot is reserved before the work starts);
 *              a stage whose input is drained and idle is flushed once, then its output closes;
 *   3. source: read one batch if the first channel grants credit.
 *
 * Nothing is read or dispatched without reserved room downstream, so the items in flight
 * are bounded by the channel capacities whatever the input size. The first error wins:
 * everything stops and the caller aborts executors and sink.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Item, Lease, StageExecutor, StageOutput } from '../executors/types';
import { Channel, measureItem, type Reservation } from './channel';
import { StageMeter, rowsOf } from './metrics';

export interface SchedulerSource {
  /** Read the next batch; called only when there is room for it. */
  next(): Promise<IteratorResult<{ batches: RecordBatch[]; sourceFile?: string; lease?: Lease }>>;
  close(): Promise<void>;
}

export interface SchedulerSink {
  /** Write an item's batches; when it resolves their memory may be reused. */
  write(item: Item): Promise<void>;
}

export interface SourceMeter {
  rows: number;
  batches: number;
  bytes: number;
  busyMs: number;
  blockedMs: number;
}

export interface SinkMeter {
  rows: number;
  batches: number;
  bytes: number;
  busyMs: number;
}

export class Scheduler {
  readonly meters: StageMeter[];
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
  private settle!: { resolve: () => void; reject: (err: unknown) => void };

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
    for (const channel of this.channels) for (const item of channel.drainAll()) item.lease?.release();
    this.source.close().catch(() => undefined);
    this.settle.reject(err);
  }

  get failed(): boolean {
    return this.failure !== undefined;
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
        this.pumpSink();
        for (let i = this.executors.length - 1; i >= 0; i--) this.pumpStage(i);
        this.pumpSource();
      } while (this.pumpAgain && !this.finished);
    } catch (err) {
      this.fail(err);
    } finally {
      this.pumping = false;
    }
  }

  private pumpSink(): void {
    const input = this.channels[this.channels.length - 1];
    while (!this.sinkBusy && input.hasReady()) {
      const item = input.take();
      if (item.batches.length === 0) {
        item.lease?.release();
        continue;
      }
      this.sinkBusy = true;
      this.sink.write(item).then(
        () => {
          if (!this.finished) this.account();
          this.sinkBusy = false;
          item.lease?.release();
          this.sinkMeter.batches += item.batches.length;
          this.sinkMeter.rows += rowsOf(item.batches);
          this.sinkMeter.bytes += measureItem(item);
          this.pump();
        },
        (err) => {
          item.lease?.release();
          this.fail(err);
        },
      );
    }
    if (!this.sinkBusy && input.drained && !this.finished) {
      this.finished = true;
      this.account();
      this.settle.resolve();
    }
  }

  private pumpStage(i: number): void {
    const executor = this.executors[i];
    const meter = this.meters[i];
    const input = this.channels[i];
    const output = this.channels[i + 1];
    while (meter.inFlight < executor.slots && input.hasReady()) {
      const bytes = input.peekBytes();
      if (!output.hasCredit(bytes)) break;
      const item = input.take();
      const reservation = output.reserve(bytes);
      this.taken[i]++;
      meter.batchesIn += item.batches.length;
      meter.rowsIn += rowsOf(item.batches);
      meter.bytesIn += bytes;
      if (item.batches.length === 0) {
        // Nothing to do, but the sequence number must still pass (ordered mode).
        item.lease?.release();
        output.fulfil(reservation, { seq: item.seq, sourceFile: item.sourceFile, batches: [] }, 0);
        continue;
      }
      meter.started(item.seq, this.last);
      this.running[i].add(item.seq);
      executor.process(item).then(
        (out) => this.taskDone(i, item, reservation, out),
        (err) => {
          // The input was never handed on: its holder is still this task.
          item.lease?.release();
          this.fail(err);
        },
      );
    }
    meter.reason = meter.inFlight >= executor.copies ? 'none' : input.hasReady() ? 'blocked' : 'idle';
    if (!this.flushStarted[i] && input.drained && meter.inFlight === 0) this.flushStage(i);
  }

  private taskDone(i: number, item: Item, reservation: Reservation, out: StageOutput): void {
    if (!this.finished) this.account(); // the interval that just ended still had this task in flight
    const meter = this.meters[i];
    meter.ended(item.seq, this.last, rowsOf(out.batches));
    this.running[i].delete(item.seq);
    item.lease?.release();
    if (this.finished) {
      out.lease?.release();
      return;
    }
    const result: Item = { seq: item.seq, sourceFile: item.sourceFile, batches: out.batches, lease: out.lease };
    const bytes = measureItem(result);
    meter.batchesOut += out.batches.length;
    meter.rowsOut += rowsOf(out.batches);
    meter.bytesOut += bytes;
    this.channels[i + 1].fulfil(reservation, result, bytes);
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
        meter.ended(-1, this.last, outputs.reduce((n, out) => n + rowsOf(out.batches), 0));
        meter.finished = true;
        if (this.finished) {
          for (const out of outputs) out.lease?.release();
          return;
        }
        // Flush output follows every input item: sequence numbers continue after them.
        let seq = this.taken[i];
        for (const out of outputs) {
          if (out.batches.length === 0) {
            out.lease?.release();
            continue;
          }
          const item: Item = { seq: seq++, batches: out.batches, lease: out.lease };
          const bytes = measureItem(item);
          meter.batchesOut += out.batches.length;
          meter.rowsOut += rowsOf(out.batches);
          meter.bytesOut += bytes;
          output.force(item, bytes);
        }
        output.close();
        this.pump();
      },
      (err) => this.fail(err),
    );
  }

  private pumpSource(): void {
    const output = this.channels[0];
    this.sourceBlocked = false;
    if (this.sourceDone || this.reading) return;
    if (!output.hasCredit(this.lastReadBytes)) {
      this.sourceBlocked = true;
      return;
    }
    this.reading = true;
    const reservation = output.reserve(this.lastReadBytes);
    this.source.next().then(
      (r) => {
        if (!this.finished) this.account();
        this.reading = false;
        if (this.finished) {
          if (!r.done) r.value.lease?.release();
          return;
        }
        if (r.done) {
          output.cancel(reservation);
          this.sourceDone = true;
          output.close();
        } else {
          const item: Item = { seq: this.nextSeq++, sourceFile: r.value.sourceFile, batches: r.value.batches, lease: r.value.lease };
          const bytes = measureItem(item);
          this.lastReadBytes = bytes;
          this.sourceMeter.batches += item.batches.length;
          this.sourceMeter.rows += rowsOf(item.batches);
          this.sourceMeter.bytes += bytes;
          output.fulfil(reservation, item, bytes);
        }
        this.pump();
      },
      (err) => this.fail(err),
    );
  }

  get sourceFinished(): boolean {
    return this.sourceDone;
  }
}
