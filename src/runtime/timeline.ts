/**
 * What each copy of a stage did over time, for the run report's timeline: per copy ("lane")
 * the intervals it was busy, idle for input, blocked on output or done, and per batch when
 * it ran on which lane. Memory is bounded for any run length: past a cap, neighbouring
 * intervals merge (the state that held longest names the merged one) and only every n-th
 * batch is kept. The totals in the report (busyMs, …) stay exact; only the picture coarsens.
 *
 * Lanes are a model, not OS copies: the first `copies` tasks in flight occupy lanes and a task
 * pipelined behind them (a process copy takes a second one while busy) waits for a free lane,
 * so at every moment the busy lanes are min(tasks in flight, copies), as in busyMs.
 */
export type LaneState = 'busy' | 'idle' | 'blocked' | 'done';
const STATES: readonly LaneState[] = ['busy', 'idle', 'blocked', 'done'];

/** `[startMs, endMs, state]`, times from the run's start. */
export type LaneInterval = [number, number, LaneState];
/** `[seq, lane, startMs, endMs, rowsOut]`; seq -1 is the stage's flush. */
export type BatchSpan = [number, number, number, number, number];

export interface StageTimeline {
  name: string;
  copies: number;
  lanes: LaneInterval[][];
  batches: BatchSpan[];
  /** One batch in `batchStride` is kept (1 = every batch). */
  batchStride: number;
}

export interface TimelineLimits {
  /** Intervals per lane before neighbours merge. */
  intervalsPerLane: number;
  /** Batches per stage before every other one is dropped. */
  batches: number;
}

export const DEFAULT_TIMELINE_LIMITS: TimelineLimits = { intervalsPerLane: 1000, batches: 2000 };

interface Interval {
  start: number;
  end: number;
  /** ms spent in each state (STATES order) inside this interval, once merged. */
  ms: [number, number, number, number];
}

class Lane {
  readonly intervals: Interval[] = [];
  /** Intervals shorter than this are merged into the previous one (0 until the first cap). */
  private grainMs = 0;
  occupant: { seq: number; since: number } | undefined;

  constructor(private readonly cap: number) {}

  record(start: number, end: number, state: LaneState): void {
    if (end <= start) return;
    const k = STATES.indexOf(state);
    const last = this.intervals[this.intervals.length - 1];
    if (last && (dominant(last) === state || last.end - last.start < this.grainMs) && last.end === start) {
      last.end = end;
      last.ms[k] += end - start;
      return;
    }
    const ms: Interval['ms'] = [0, 0, 0, 0];
    ms[k] = end - start;
    this.intervals.push({ start, end, ms });
    if (this.intervals.length > this.cap) this.coarsen();
  }

  /** Halve the intervals by merging pairs; later intervals are at least as long as the merged ones. */
  private coarsen(): void {
    const merged: Interval[] = [];
    for (let i = 0; i < this.intervals.length; i += 2) {
      const a = this.intervals[i];
      const b = this.intervals[i + 1];
      merged.push(b ? { start: a.start, end: b.end, ms: [a.ms[0] + b.ms[0], a.ms[1] + b.ms[1], a.ms[2] + b.ms[2], a.ms[3] + b.ms[3]] } : a);
    }
    this.intervals.splice(0, this.intervals.length, ...merged);
    const span = merged[merged.length - 1].end - merged[0].start;
    this.grainMs = span / merged.length;
  }
}

function dominant(i: Interval): LaneState {
  let best = 0;
  for (let k = 1; k < STATES.length; k++) if (i.ms[k] > i.ms[best]) best = k;
  return STATES[best];
}

export class TimelineRecorder {
  private readonly lanes: Lane[];
  /** Tasks in flight beyond the copies (pipelined), oldest first. */
  private readonly waiting: number[] = [];
  private readonly batches: BatchSpan[] = [];
  private batchStride = 1;
  private batchCount = 0;

  constructor(
    private readonly copies: number,
    private readonly limits: TimelineLimits = DEFAULT_TIMELINE_LIMITS,
  ) {
    this.lanes = Array.from({ length: copies }, () => new Lane(limits.intervalsPerLane));
  }

  /** The interval [start, end) just ended with this occupancy; free lanes were in `free` state. */
  account(start: number, end: number, free: Exclude<LaneState, 'busy'>): void {
    for (const lane of this.lanes) lane.record(start, end, lane.occupant ? 'busy' : free);
  }

  /** A task (or, with seq -1, the flush) was dispatched at `now`. */
  started(seq: number, now: number): void {
    const lane = this.lanes.find((l) => !l.occupant);
    if (lane) lane.occupant = { seq, since: now };
    else this.waiting.push(seq);
  }

  /** A task finished at `now` with `rows` rows out. */
  finished(seq: number, now: number, rows: number): void {
    const index = this.lanes.findIndex((l) => l.occupant?.seq === seq);
    if (index < 0) {
      // A pipelined task finished before a lane was free for it: it ran, but on no lane we drew.
      const w = this.waiting.indexOf(seq);
      if (w >= 0) this.waiting.splice(w, 1);
      return;
    }
    const lane = this.lanes[index];
    this.keepBatch([seq, index, lane.occupant!.since, now, rows]);
    const next = this.waiting.shift();
    lane.occupant = next === undefined ? undefined : { seq: next, since: now };
  }

  private keepBatch(span: BatchSpan): void {
    if (this.batchCount++ % this.batchStride !== 0) return;
    this.batches.push(span);
    if (this.batches.length > this.limits.batches) {
      const kept = this.batches.filter((_, i) => i % 2 === 0);
      this.batches.splice(0, this.batches.length, ...kept);
      this.batchStride *= 2;
    }
  }

  /** The recording with times relative to `origin` (the run's start), rounded to 0.1 ms. */
  export(name: string, origin: number): StageTimeline {
    const t = (ms: number) => Math.round((ms - origin) * 10) / 10;
    return {
      name,
      copies: this.copies,
      lanes: this.lanes.map((l) => l.intervals.map((i): LaneInterval => [t(i.start), t(i.end), dominant(i)])),
      batches: this.batches.map(([seq, lane, start, end, rows]): BatchSpan => [seq, lane, t(start), t(end), rows]),
      batchStride: this.batchStride,
    };
  }
}
