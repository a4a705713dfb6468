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
 * everything stops and the caller aborts executors and sinks.
 *
 * The run is a graph (`Topology`): a producer (the source, a stage) read by several stages or
 * sinks reserves room in each of their channels before it moves, and hands each the same
 * batch (`OwnedBatch.share`: one more holder of the same memory, no copy).
 */
import type { OwnedBatch } from '../batch/owned';
import type { StageExecutor } from '../executors/types';
import { Channel, type Reservation } from './channel';
import { nextDecision, sourceWait, stageWait, type Decision, type Snapshot } from './decide';
import { StageMeter, type SinkMeter, type SourceMeter } from './metrics';
import { bisect, isRowError, joined } from './bisect';
import { rejectedOnFail, stageReject, type Reject, type RejectAction, type Rejects } from './rejects';
import { PoisonBatchError } from '../errors';

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
 * as each item leaves it; a throw fails the run there. Each sink's one schema (run.ts) uses it.
 */
export interface OutputCheck {
  after: number;
  check(item: OwnedBatch, place: string): void;
}

/**
 * Who reads whom: per executor, what it reads (-1: the source, else an executor's index, always
 * an earlier one); per sink, what it writes. Channels: `channels[i]` feeds executor i,
 * `channels[executors + k]` sink k. Absent: a line with one sink.
 */
export interface Topology {
  inputs: readonly number[];
  sinkInputs: readonly number[];
}

/**
 * What a stage's throw on a batch becomes (config `onError` other than `fail`): its throwing
 * rows found (runtime/bisect.ts) and skipped or dead-lettered. `whole`: the stage has `flush`
 * (state), so the whole batch is rejected, nothing run again.
 */
export interface RowErrorPolicy {
  action: RejectAction;
  whole: boolean;
  /** Where this stage's rejected rows go instead of `rowErrors.rejects` (a resumable run's live tail: Rejects.liveTail). */
  into?: Pick<Rejects, 'add' | 'room'>;
}

export class Scheduler {
  readonly meters: StageMeter[];
  /** Checks on what places pass on (several sinks: one each). */
  outputChecks: OutputCheck[] = [];
  /**
   * Per executor, what its throw on a batch becomes (absent: the run fails), and where the
   * rejected rows are counted. Set before run().
   */
  /** `rowsBefore`: per input file, its rows before the first this run reads (a unit that is a range of a Parquet file's row groups), so row numbers stay the file's. */
  rowErrors: { policies: readonly (RowErrorPolicy | undefined)[]; rejects: Rejects; rowNumbers: boolean; rowsBefore?: ReadonlyMap<string, number> } | undefined;
  /**
   * Per batch read, its first row's number in its file (1-based), for the rows a stage rejects;
   * per executor, the batches whose output row i is still input row i (so the numbers hold).
   */
  private readonly firstRows = new Map<number, number>();
  private readonly rowsInFile = new Map<string, number>();
  private readonly oneToOne: Set<number>[];
  readonly sourceMeter: SourceMeter = { rows: 0, batches: 0, bytes: 0, busyMs: 0, blockedMs: 0 };
  /** What every sink was handed, together. */
  readonly sinkMeter: SinkMeter = { rows: 0, batches: 0, bytes: 0, busyMs: 0 };
  /** What each sink was handed. */
  readonly sinkMeters: SinkMeter[];
  /** Per producer, the channels it writes: `outputs[0]` the source's, `outputs[i + 1]` executor i's. */
  readonly outputs: readonly (readonly number[])[];
  private readonly sinks: readonly SchedulerSink[];
  private readonly sinkBusy: boolean[];

  private readonly taken: number[];
  private readonly flushStarted: boolean[];
  /** Per stage, the sequence numbers of the batches its copies are running now. */
  private readonly running: Set<number>[];
  private nextSeq = 0;
  private lastReadBytes = 0;
  private reading = false;
  private sourceDone = false;
  private sourceBlocked = false;
  private finished = false;
  private failure: unknown;
  private pumping = false;
  private pumpAgain = false;
  private last = 0;
  private settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;

  constructor(
    private readonly source: SchedulerSource,
    readonly executors: readonly StageExecutor[],
    sinks: SchedulerSink | readonly SchedulerSink[],
    /** `channels[i]` feeds executor i; `channels[executors.length + k]` sink k. */
    readonly channels: readonly Channel[],
    private readonly now: () => number = () => performance.now(),
    topology?: Topology,
  ) {
    this.sinks = Array.isArray(sinks) ? sinks : [sinks as SchedulerSink];
    const n = executors.length;
    const shape = topology ?? { inputs: executors.map((_, i) => i - 1), sinkInputs: [n - 1] };
    if (channels.length !== n + this.sinks.length || shape.inputs.length !== n || shape.sinkInputs.length !== this.sinks.length) {
      throw new Error('scheduler: need one channel per stage and per sink, and a topology naming what each reads');
    }
    const outputs: number[][] = Array.from({ length: n + 1 }, () => []);
    shape.inputs.forEach((p, i) => {
      if (p >= i || p < -1) throw new Error(`scheduler: stage ${i} reads ${p}, not an earlier stage or the source`);
      outputs[p + 1].push(i);
    });
    shape.sinkInputs.forEach((p, k) => outputs[p + 1].push(n + k));
    this.outputs = outputs;
    this.sinkBusy = this.sinks.map(() => false);
    this.sinkMeters = this.sinks.map(() => ({ rows: 0, batches: 0, bytes: 0, busyMs: 0 }));
    this.meters = executors.map((e) => new StageMeter(e));
    this.taken = executors.map(() => 0);
    this.flushStarted = executors.map(() => false);
    this.running = executors.map(() => new Set<number>());
    this.oneToOne = executors.map(() => new Set<number>());
  }

  /** The file row number of `item`'s first row as stage `i` gets it, when its rows are still the file's, one to one. */
  private firstRowAt(i: number, item: OwnedBatch): number | undefined {
    if (!this.rowErrors?.rowNumbers) return undefined;
    for (let p = this.inputOf(i); p >= 0; p = this.inputOf(p)) if (!this.oneToOne[p].has(item.seq)) return undefined;
    return this.firstRows.get(item.seq);
  }

  private inputOf(i: number): number {
    return this.outputs.findIndex((outs) => outs.includes(i)) - 1;
  }

  /** What the run waits for now, in words: the tasks in flight, the source, the sink. */
  describePending(): string {
    const parts: string[] = [];
    this.executors.forEach((e, i) => {
      // By the stage each batch is in: in a fused inline group, the member running it.
      const byStage = new Map<string, number[]>();
      for (const seq of this.running[i]) {
        const stage = e.runningStage?.(seq) ?? e.stage;
        byStage.set(stage, [...(byStage.get(stage) ?? []), seq]);
      }
      for (const [stage, seqs] of byStage) parts.push(`stage "${stage}" (${e.mode}) on batch ${seqs.map((n) => `#${n}`).join(', ')}`);
      if (byStage.size) return;
      if (this.flushStarted[i] && this.outputs[i + 1].some((o) => !this.channels[o].isClosed)) parts.push(`stage "${e.stage}" (${e.mode}) in flush()`);
    });
    if (this.reading) parts.push('the source reading its next batch');
    this.sinkBusy.forEach((busy, k) => busy && parts.push(this.sinks.length === 1 ? 'the sink writing' : `sink ${k + 1} of ${this.sinks.length} writing`));
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

  /** Runs the output checks on `item` if it leaves place `i`; false (the run failed, the item released) if one throws. */
  private passes(i: number, item: OwnedBatch, flush = false): boolean {
    if (item.batches.length === 0) return true;
    for (const check of this.outputChecks) {
      if (check.after !== i) continue;
      const from = item.sourceFile ? ` (from ${item.sourceFile})` : '';
      const place = i < 0 ? `the source's batch #${item.seq}${from}` : `stage "${this.executors[i].stage}", ${flush ? 'flush() output as ' : ''}batch #${item.seq}${from}`;
      try {
        check.check(item, place);
      } catch (err) {
        item.release();
        this.fail(err);
        return false;
      }
    }
    return true;
  }

  /**
   * Hand `item` to every channel producer `p` writes: the first gets it, each other one more
   * holder of the same memory. `put` places it in channel `o`.
   */
  private fanOut(p: number, item: OwnedBatch, put: (o: number, item: OwnedBatch, k: number) => void): void {
    const outs = this.outputs[p + 1];
    const shared = outs.slice(1).map(() => item.share());
    outs.forEach((o, k) => put(o, k === 0 ? item : shared[k - 1], k));
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
      outputs: this.outputs,
      source: { reading: this.reading, done: this.sourceDone, lastBytes: this.lastReadBytes },
      sinks: this.sinkBusy.map((busy) => ({ busy })),
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
    let writing = false;
    this.sinkBusy.forEach((busy, k) => {
      if (!busy) return;
      this.sinkMeters[k].busyMs += dt;
      writing = true;
    });
    if (writing) this.sinkMeter.busyMs += dt;
    for (const channel of this.channels) if (channel.holdingBack) channel.creditWaitMs += dt;
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
        return this.write(d.sink);
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
    // Which edges hold their producer back (no credit for its next item): their credit wait in the report.
    for (const channel of this.channels) channel.holdingBack = false;
    const holdBack = (p: number, bytes: number) => {
      for (const o of this.outputs[p + 1]) if (!this.channels[o].hasCredit(bytes)) this.channels[o].holdingBack = true;
    };
    if (this.sourceBlocked) holdBack(-1, this.lastReadBytes);
    this.meters.forEach((m, i) => m.reason === 'blocked' && holdBack(i, this.channels[i].peekBytes()));
  }

  private write(k: number): void {
    const item = this.channels[this.executors.length + k].take();
    if (item.batches.length === 0) {
      item.release();
      return;
    }
    this.sinkBusy[k] = true;
    const { rows, bytes } = item;
    const batches = item.batches.length;
    this.sinks[k].write(item).then(
      () => {
        if (!this.finished) this.account();
        this.sinkBusy[k] = false;
        for (const meter of [this.sinkMeters[k], this.sinkMeter]) {
          meter.batches += batches;
          meter.rows += rows;
          meter.bytes += bytes;
        }
        this.pump();
      },
      (err) => this.fail(err),
    );
  }

  private dispatch(i: number): void {
    const executor = this.executors[i];
    const meter = this.meters[i];
    const item = this.channels[i].take();
    const reservations = this.outputs[i + 1].map((o) => this.channels[o].reserve(item.bytes));
    this.taken[i]++;
    meter.batchesIn += item.batches.length;
    meter.rowsIn += item.rows;
    meter.bytesIn += item.bytes;
    if (item.batches.length === 0) {
      // Nothing to do, but the sequence number must still pass (ordered mode).
      this.fanOut(i, item, (o, one, k) => this.channels[o].fulfil(reservations[k], one));
      return;
    }
    meter.started(item.seq, this.last);
    this.running[i].add(item.seq);
    const { seq } = item;
    const policy = this.rowErrors?.policies[i];
    // A stage whose throwing rows are looked for keeps a hold on its input's memory (one more
    // holder, not a copy) to run parts of it again; released once the task settled.
    const kept = policy ? item.share() : undefined;
    const firstRow = policy ? this.firstRowAt(i, item) : undefined;
    const rowsIn = item.rows;
    // The executor owns `item` from here and releases it, whatever happens.
    executor.process(item)
      .then(
        (out) => {
          kept?.release();
          if (out.rejected?.length) {
            const rows = firstRow ?? this.firstRowAt(i, out);
            try {
              this.takeRejected(i, out.rejected.map((r) => stageReject(r, { seq, sourceFile: out.sourceFile, firstRow: rows })), out);
            } catch (err) {
              out.release();
              throw err;
            }
          }
          if (out.rows === rowsIn && (this.inputOf(i) < 0 || this.oneToOne[this.inputOf(i)].has(seq))) this.oneToOne[i].add(seq);
          this.taskDone(i, seq, reservations, out);
        },
        (err: unknown) => {
          if (!kept || !policy || !isRowError(err) || this.finished) {
            kept?.release();
            return this.fail(err);
          }
          return this.rowsOf(i, kept, err, policy, firstRow).then((out) => this.taskDone(i, seq, reservations, out));
        },
      )
      .catch((err: unknown) => this.fail(err)); // a channel refusing the result (channel.ts): the run's failure, not an unhandled rejection
  }

  /**
   * Rows stage `i` rejected itself (`ctx.reject`) in the task that gave `out`: routed by its
   * `onError` (counted, dead-lettered; the budget may throw), or, with `fail`, the run's failure.
   * Only a task's delivered result carries them: an attempt that threw or whose copy died gave
   * none, so a retried batch's rejects count once.
   */
  private takeRejected(i: number, rejects: Reject[], out: { seq: number; sourceFile?: string }): void {
    const policy = this.rowErrors?.policies[i];
    if (!policy) throw rejectedOnFail(rejects, out);
    (policy.into ?? this.rowErrors!.rejects).add(policy.action, rejects);
    this.meters[i].rejected += rejects.length;
  }

  /** Stage `i` threw on `input`: its throwing rows rejected (bisect.ts), the output of the others as one. */
  private async rowsOf(i: number, input: OwnedBatch, err: Parameters<typeof bisect>[2], policy: RowErrorPolicy, firstRow: number | undefined): Promise<OwnedBatch> {
    try {
      const { seq, sourceFile } = input;
      const room = (policy.into ?? this.rowErrors!.rejects).room();
      const found = await bisect({ stage: this.executors[i].stage, seq, sourceFile, firstRow, batches: input.batches }, (part) => this.executors[i].process(part), err, policy.whole || err instanceof PoisonBatchError, room);
      // The parts that ran may have rejected rows themselves (ctx.reject): theirs, counted from where each part starts.
      const own = found.outputs.flatMap((out, k) => (out.rejected ?? []).map((r) => stageReject(r, { seq, sourceFile, firstRow, shift: found.starts[k] })));
      try {
        this.takeRejected(i, [...found.rejects, ...own].sort((a, b) => (a.row ?? 0) - (b.row ?? 0)), { seq, sourceFile });
      } catch (budget) {
        for (const out of found.outputs) out.release();
        throw budget;
      }
      return joined(seq, sourceFile, found.outputs);
    } finally {
      input.release();
    }
  }

  private taskDone(i: number, seq: number, reservations: Reservation[], out: OwnedBatch): void {
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
    this.fanOut(i, out, (o, one, k) => this.channels[o].fulfil(reservations[k], one));
    this.pump();
  }

  private flushStage(i: number): void {
    this.flushStarted[i] = true;
    const meter = this.meters[i];
    const targets = this.outputs[i + 1].map((o) => this.channels[o]);
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
          this.fanOut(i, numbered, (o, one) => this.channels[o].force(one));
        }
        for (const target of targets) target.close();
        this.pump();
      },
      (err) => this.fail(err),
    ).catch((err: unknown) => this.fail(err));
  }

  private read(): void {
    const outputs = this.outputs[0].map((o) => this.channels[o]);
    this.reading = true;
    const reservations = outputs.map((output) => output.reserve(this.lastReadBytes));
    this.source.next().then(
      (r) => {
        if (!this.finished) this.account();
        this.reading = false;
        if (this.finished) {
          if (!r.done) r.value.release();
          return;
        }
        if (r.done) {
          outputs.forEach((output, k) => output.cancel(reservations[k]));
          this.sourceDone = true;
          for (const output of outputs) output.close();
        } else {
          const item = r.value.moveTo({ seq: this.nextSeq++ });
          if (this.rowErrors?.rowNumbers && item.sourceFile !== undefined) {
            const before = this.rowsInFile.get(item.sourceFile) ?? this.rowErrors.rowsBefore?.get(item.sourceFile) ?? 0;
            this.firstRows.set(item.seq, before + 1);
            this.rowsInFile.set(item.sourceFile, before + item.rows);
          }
          this.lastReadBytes = item.bytes;
          this.sourceMeter.batches += item.batches.length;
          this.sourceMeter.rows += item.rows;
          this.sourceMeter.bytes += item.bytes;
          if (!this.passes(-1, item)) return;
          this.fanOut(-1, item, (o, one, k) => this.channels[o].fulfil(reservations[k], one));
        }
        this.pump();
      },
      (err) => this.fail(err),
    ).catch((err: unknown) => this.fail(err));
  }
}
