/**
 * The driver's live view of a cluster run, from what it polls in Redis: each unit job's state,
 * attempts, result (done) and progress (running: what its worker last told, job.updateProgress
 * every second, cluster/worker.ts). A pure function of the poll, so the display is tested on a
 * recorded sequence of polls, without Redis and without timing.
 */
import type { UnitProgress, UnitResult } from './jobs';

/** One unit job as one poll saw it. */
export interface UnitView {
  state: string;
  attempts: number;
  /** What the running attempt told last (BullMQ keeps 0 until the first report). */
  progress?: unknown;
  result?: UnitResult;
}

export interface ClusterProgress {
  elapsedMs: number;
  units: { total: number; done: number; running: number; waiting: number; failed: number; retried: number };
  /** Rows read: every done unit's, and what running units told so far. */
  rows: number;
  /** Input bytes read of all the input files' size: done units count whole. */
  input: { bytesRead: number; totalBytes: number };
  /** Per worker seen (done or running units): units done, units running, rows read. */
  workers: { name: string; done: number; running: number; rows: number }[];
}

export function clusterProgress(views: readonly UnitView[], sizes: readonly number[], elapsedMs: number): ClusterProgress {
  const units = { total: views.length, done: 0, running: 0, waiting: 0, failed: 0, retried: 0 };
  const workers = new Map<string, { name: string; done: number; running: number; rows: number }>();
  const worker = (name: string) => workers.get(name) ?? workers.set(name, { name, done: 0, running: 0, rows: 0 }).get(name)!;
  let rows = 0;
  let bytesRead = 0;
  views.forEach((v, u) => {
    if (v.attempts > 1) units.retried++;
    if (v.state === 'completed' && v.result) {
      units.done++;
      rows += v.result.rows;
      bytesRead += sizes[u] ?? 0;
      const w = worker(v.result.worker);
      w.done++;
      w.rows += v.result.rows;
    } else if (v.state === 'active') {
      units.running++;
      const p = progressOf(v.progress);
      if (p) {
        rows += p.rows;
        bytesRead += Math.min(p.bytesRead, sizes[u] ?? p.bytesRead);
        const w = worker(p.worker);
        w.running++;
        w.rows += p.rows;
      }
    } else if (v.state === 'failed') units.failed++;
    else units.waiting++;
  });
  return { elapsedMs, units, rows, input: { bytesRead, totalBytes: sizes.reduce((n, s) => n + s, 0) }, workers: [...workers.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}

/** A unit's progress as its worker reported it, or undefined (none yet, or not ours). */
function progressOf(p: unknown): UnitProgress | undefined {
  if (!p || typeof p !== 'object') return undefined;
  const o = p as Partial<UnitProgress>;
  return typeof o.rows === 'number' && typeof o.worker === 'string' ? { rows: o.rows, bytesRead: o.bytesRead ?? 0, totalBytes: o.totalBytes ?? 0, worker: o.worker } : undefined;
}
