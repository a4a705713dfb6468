/**
 * Per-stage counters and time accounting. Time is attributed per interval between two
 * scheduler decisions: the state does not change in between, so each free copy's time
 * goes to the reason it was free (no input = idle, no output room = blocked).
 */
import type { RecordBatch } from 'apache-arrow';
import { rowCount } from '../batch/frame-handoff';
import type { StageExecutor } from '../executors/types';
import { TimelineRecorder, type StageTimeline } from './timeline';
import type { StageMetrics } from './types';

/** What the scheduler counts of the source. */
export interface SourceMeter {
  rows: number;
  batches: number;
  bytes: number;
  busyMs: number;
  blockedMs: number;
  /** Why the source is not reading right now (the display's words). */
  waitReason?: string;
}

export interface SinkMeter {
  rows: number;
  batches: number;
  bytes: number;
  busyMs: number;
}

export type FreeReason = 'idle' | 'blocked' | 'none';

export class StageMeter {
  rowsIn = 0;
  rowsOut = 0;
  batchesIn = 0;
  batchesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  busyMs = 0;
  idleMs = 0;
  blockedMs = 0;
  peakInFlight = 0;
  inFlight = 0;
  /** Input rows skipped or dead-lettered (`onError`). */
  rejected = 0;
  /** Why free copies were free since the last decision. */
  reason: FreeReason = 'idle';
  /** Flushed and closed: nothing more will run (the timeline draws it as done, not idle). */
  finished = false;
  /** Why the stage waits, in the words of the live display and the report (runtime/decide.ts `stageWait`). */
  waitReason: string | undefined = 'idle: no input';
  /** Copy-milliseconds spent free, per wait reason (the report's `waits`). */
  private readonly waits = new Map<string, number>();
  readonly timeline: TimelineRecorder;

  constructor(readonly executor: StageExecutor) {
    this.timeline = new TimelineRecorder(executor.copies);
  }

  /** Attribute `dt` ms of the interval that just ended (at `now`, when given, for the timeline). */
  account(dt: number, now?: number): void {
    if (now !== undefined) this.timeline.account(now - dt, now, this.finished ? 'done' : this.reason === 'blocked' ? 'blocked' : 'idle');
    const copies = this.executor.copies;
    const busy = Math.min(this.inFlight, copies);
    this.busyMs += busy * dt;
    const free = copies - busy;
    if (free > 0 && this.reason === 'idle') this.idleMs += free * dt;
    else if (free > 0 && this.reason === 'blocked') this.blockedMs += free * dt;
    if (free > 0 && dt > 0 && this.waitReason) this.waits.set(this.waitReason, (this.waits.get(this.waitReason) ?? 0) + free * dt);
  }

  /** A task (seq, or -1 for the flush) was dispatched at `now`. */
  started(seq = -1, now?: number): void {
    if (now !== undefined) this.timeline.started(seq, now);
    this.inFlight++;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
  }

  /** A task (seq, or -1 for the flush) finished at `now` with `rows` rows out. */
  ended(seq: number, now: number, rows: number): void {
    this.inFlight--;
    this.timeline.finished(seq, now, rows);
  }

  /** The timeline with times from `origin`. */
  timelineFrom(origin: number): StageTimeline {
    return this.timeline.export(this.executor.stage, origin);
  }

  snapshot(): StageMetrics {
    const e = this.executor;
    return {
      name: e.stage,
      mode: e.mode,
      copies: e.copies,
      rowsIn: this.rowsIn,
      rowsOut: this.rowsOut,
      batchesIn: this.batchesIn,
      batchesOut: this.batchesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      busyMs: round(this.busyMs),
      idleMs: round(this.idleMs),
      blockedMs: round(this.blockedMs),
      peakInFlight: this.peakInFlight,
      waits: Object.fromEntries([...this.waits].map(([reason, ms]) => [reason, round(ms)])),
      transport: e.stats(),
      ...(e.parsed && { parsed: e.parsed() }),
      ...(e.keyed && { keyed: e.keyed() }),
      ...(e.retries?.() && { retries: e.retries() }),
      ...(this.rejected > 0 && { rejected: this.rejected }),
    };
  }
}

export function rowsOf(batches: readonly RecordBatch[]): number {
  let n = 0;
  // A frame handed on from the source counts without being converted (batch/frame-handoff.ts).
  for (const b of batches) n += rowCount(b);
  return n;
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
