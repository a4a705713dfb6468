/** Samples the scheduler every interval into a ProgressSnapshot (rows/s from the last interval). */
import type { SinkMeter, SourceMeter, StageMeter } from './metrics';
import type { EncoderWork, ProgressSnapshot } from './types';

/** What progress is read from: the scheduler's meters (runtime/scheduler.ts has them all). */
export type ProgressSource = {
  readonly meters: readonly StageMeter[];
  readonly sourceMeter: SourceMeter;
  readonly sinkMeter: SinkMeter;
  readonly sourceFinished: boolean;
  channels: readonly { depth: number }[];
  /** Input file bytes read so far and the input files' total size. */
  inputBytes?: () => { bytesRead: number; totalBytes: number };
  /** A Parquet sink's encoder work since the run began. */
  encoder?: () => EncoderWork | undefined;
};

/**
 * Why a stage's free copies wait, from the scheduler's counters: a policy's own words win
 * (`meter.waitReason`); nothing when every copy is busy or the stage is done.
 */
export function waitReasonOf(m: Pick<StageMeter, 'waitReason' | 'reason' | 'finished' | 'inFlight'> & { executor: { copies: number } }): string | undefined {
  if (m.finished || m.inFlight >= m.executor.copies) return undefined;
  if (m.waitReason) return m.waitReason;
  if (m.reason === 'blocked') return 'held: output full';
  if (m.reason === 'idle') return 'idle: no input';
  return undefined;
}

export class ProgressTracker {
  private readonly timer: NodeJS.Timeout;
  private lastRows: number[];
  private lastAt: number;
  private lastEncoder: EncoderWork | undefined;

  constructor(
    private readonly scheduler: ProgressSource,
    private readonly t0: number,
    private readonly emit: (s: ProgressSnapshot) => void,
    intervalMs: number,
  ) {
    this.lastRows = scheduler.meters.map(() => 0);
    this.lastAt = performance.now();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** Stop sampling; `final` emits one last snapshot. */
  stop(final: boolean): void {
    clearInterval(this.timer);
    if (final) this.tick();
  }

  private tick(): void {
    const now = performance.now();
    const dt = Math.max(1, now - this.lastAt) / 1000;
    const encoder = this.scheduler.encoder?.();
    this.emit(snapshotOf(this.scheduler, now - this.t0, (m, i) => Math.round((m.rowsOut - this.lastRows[i]) / dt), encoder && encoderShare(this.lastEncoder, encoder, dt * 1000)));
    this.lastRows = this.scheduler.meters.map((m) => m.rowsOut);
    this.lastAt = now;
    this.lastEncoder = encoder;
  }
}

/**
 * The encoder over an interval of `ms`: busy share of its threads' time, and the share of the
 * interval the sink waited for a slot (both 0-100).
 */
export function encoderShare(before: EncoderWork | undefined, now: EncoderWork, ms: number): { busyPercent: number; waitPercent: number } {
  const threads = Math.max(1, now.threadsStarted);
  const pct = (x: number) => Math.max(0, Math.min(100, Math.round(x * 100)));
  return { busyPercent: pct((now.busyMs - (before?.busyMs ?? 0)) / (ms * threads)), waitPercent: pct((now.slotWaitMs - (before?.slotWaitMs ?? 0)) / ms) };
}

/** The progress of `s` now; `rate` gives a stage's rows/s. */
export function snapshotOf(
  s: ProgressSource,
  elapsedMs: number,
  rate: (m: StageMeter, i: number) => number,
  encoder?: { busyPercent: number; waitPercent: number },
): ProgressSnapshot {
  return {
    elapsedMs: Math.round(elapsedMs),
    source: { rows: s.sourceMeter.rows, batches: s.sourceMeter.batches, done: s.sourceFinished, ...(s.sourceMeter.waitReason && { waitReason: s.sourceMeter.waitReason }) },
    ...(s.inputBytes ? { input: s.inputBytes() } : {}),
    stages: s.meters.map((m, i) => ({
      name: m.executor.stage,
      rowsOut: m.rowsOut,
      rowsPerSec: rate(m, i),
      queueDepth: s.channels[i].depth,
      inFlight: m.inFlight,
      // A process copy takes a second task while busy (pipelining): tasks in flight may
      // exceed the copies, but no more copies than there are can be busy.
      busy: Math.min(m.inFlight, m.executor.copies),
      copies: m.executor.copies,
      done: m.finished,
      waitReason: waitReasonOf(m),
    })),
    // Every sink together (the channels after the stages' are the sinks').
    sink: { rows: s.sinkMeter.rows, queueDepth: s.channels.slice(s.meters.length).reduce((n, c) => n + c.depth, 0), ...(encoder && { encoder }) },
  };
}
