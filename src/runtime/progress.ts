/** Samples the scheduler every interval into a ProgressSnapshot (rows/s from the last interval). */
import type { Scheduler } from './scheduler';

/** What progress is read from: a scheduler, or a direct conversion's counters. */
export type ProgressSource = Pick<Scheduler, 'meters' | 'sourceMeter' | 'sinkMeter' | 'sourceFinished'> & { channels: readonly { depth: number }[] };
import type { ProgressSnapshot } from './types';

export class ProgressTracker {
  private readonly timer: NodeJS.Timeout;
  private lastRows: number[];
  private lastAt: number;

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
    const s = this.scheduler;
    const snapshot: ProgressSnapshot = {
      elapsedMs: Math.round(now - this.t0),
      source: { rows: s.sourceMeter.rows, batches: s.sourceMeter.batches, done: s.sourceFinished },
      stages: s.meters.map((m, i) => ({
        name: m.executor.stage,
        rowsOut: m.rowsOut,
        rowsPerSec: Math.round((m.rowsOut - this.lastRows[i]) / dt),
        queueDepth: s.channels[i].depth,
        inFlight: m.inFlight,
        copies: m.executor.copies,
      })),
      sink: { rows: s.sinkMeter.rows, queueDepth: s.channels[s.channels.length - 1].depth },
    };
    this.lastRows = s.meters.map((m) => m.rowsOut);
    this.lastAt = now;
    this.emit(snapshot);
  }
}
