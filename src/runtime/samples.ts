/**
 * Periodic samples of a run for the report's charts: channel depths, rows so far and the main
 * process's memory. A cheap timer reads counters the scheduler keeps anyway. Memory is bounded:
 * past `cap` samples, neighbours merge (the later counters, the higher depth and memory) and the
 * interval doubles, so a run of any length keeps at most `cap` evenly spaced samples.
 */
import type { ProgressSource } from './progress';
import type { RunSample, RunSamples } from './types';

export class SampleRecorder {
  private readonly samples: RunSample[] = [];
  private intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** The highest depth per channel seen by the ticks since the last sample (a spike between samples counts). */
  private peakDepths: number[] = [];

  constructor(
    private readonly view: ProgressSource,
    private readonly origin: number,
    private readonly channels: string[],
    baseIntervalMs = 100,
    private readonly cap = 600,
    private readonly now: () => number = () => performance.now(),
    private readonly rss: () => number = () => process.memoryUsage.rss(),
  ) {
    this.intervalMs = baseIntervalMs;
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Stop, with one last sample of where the run ended. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  /** One timer tick: a sample once the current interval has passed since the last one. */
  tick(): void {
    this.view.channels.forEach((c, k) => (this.peakDepths[k] = Math.max(this.peakDepths[k] ?? 0, c.depth)));
    const last = this.samples[this.samples.length - 1];
    if (!last || this.now() - this.origin - last.t >= this.intervalMs) this.sample();
  }

  sample(): void {
    const v = this.view;
    this.samples.push({
      t: Math.round(this.now() - this.origin),
      sourceRows: v.sourceMeter.rows,
      sinkRows: v.sinkMeter.rows,
      stageRows: v.meters.map((m) => m.rowsOut),
      depths: v.channels.map((c, k) => Math.max(c.depth, this.peakDepths[k] ?? 0)),
      rssBytes: this.rss(),
    });
    this.peakDepths = [];
    if (this.samples.length > this.cap) this.coarsen();
  }

  private coarsen(): void {
    const merged: RunSample[] = [];
    for (let i = 0; i < this.samples.length; i += 2) {
      const a = this.samples[i];
      const b = this.samples[i + 1];
      merged.push(b ? { ...b, depths: b.depths.map((d, k) => Math.max(d, a.depths[k])), rssBytes: Math.max(a.rssBytes, b.rssBytes) } : a);
    }
    this.samples.splice(0, this.samples.length, ...merged);
    this.intervalMs *= 2;
  }

  export(): RunSamples {
    return { intervalMs: this.intervalMs, channels: this.channels, samples: this.samples.map((s) => ({ ...s })) };
  }
}
