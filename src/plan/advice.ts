/**
 * Turns measured costs into a recommendation of mode and copies for one stage. Pure,
 * so the rules are unit-tested; `runtime/profile.ts` does the measuring.
 *
 * The rules, in order:
 *  1. Work that is cheaper than a hand-off belongs inline (moving it costs more than doing it).
 *  2. Work that already keeps several cores busy on its own (polars' native threads: CPU time
 *     well above wall time) gains nothing from copies; more copies would oversubscribe. Only
 *     for stages that went through polars: a plain-JS stage's CPU above its wall time is V8
 *     collecting its garbage on helper threads, which copies do not make worse.
 *  3. Otherwise run it in threads (the cheapest hand-off) with enough copies to keep up with
 *     the source, at most one per core; a stage that holds state until flush gets one copy.
 *  `process` is recommended only when thread mode could not load the stage (e.g. a native
 *  addon that is not thread-safe): isolation is the reason to pay for serialisation.
 */
import type { StageMode } from '../config/types';

export interface StageCost {
  /** Median wall ms of `process` per batch, measured inline after a warm-up. */
  msPerBatch: number;
  /** CPU time / wall time while it ran (> 1: it used several cores by itself). */
  cpuPerWall: number;
  /** Whether it went through polars (ctx.toDataFrame / fromDataFrame, a DataFrame returned). */
  usesPolars: boolean;
  /** Round trip of one such batch to a thread copy and back, ms. */
  threadHandoffMs: number;
  /** Round trip to a child process and back, ms (NaN when not measured). */
  processHandoffMs: number;
  /** Whether the stage defines `flush` (holds state across batches) without declaring `perCopyFlush`. */
  stateful: boolean;
  /** Whether the stage loaded and ran in a worker thread. */
  threadSafe: boolean;
}

export interface Advice {
  mode: StageMode;
  concurrency: number;
  reason: string;
}

export interface PipelineFacts {
  /** ms the source needs to read one batch: copies beyond what keeps up with it are idle. */
  sourceMsPerBatch: number;
  cores: number;
}

const fmt = (ms: number) => (ms >= 10 ? ms.toFixed(0) : ms.toFixed(2));

export function advise(cost: StageCost, facts: PipelineFacts): Advice {
  const handoff = cost.threadSafe ? cost.threadHandoffMs : cost.processHandoffMs;
  if (cost.msPerBatch <= 2 * handoff) {
    return { mode: 'inline', concurrency: 1, reason: `${fmt(cost.msPerBatch)} ms/batch is under twice the ${fmt(handoff)} ms hand-off` };
  }
  if (cost.usesPolars && cost.cpuPerWall >= 1.5) {
    return {
      mode: 'inline',
      concurrency: 1,
      reason: `already uses ${cost.cpuPerWall.toFixed(1)} cores by itself (native threads); copies would oversubscribe`,
    };
  }
  const mode: StageMode = cost.threadSafe ? 'thread' : 'process';
  const why = !cost.threadSafe ? 'did not load in a worker thread; isolate it in a process' : cost.usesPolars ? 'CPU-bound (polars, about one core)' : 'CPU-bound JS';
  if (cost.stateful) {
    return { mode, concurrency: 1, reason: `${why}, ${fmt(cost.msPerBatch)} ms/batch; holds state until flush, so one copy` };
  }
  const perCopy = cost.msPerBatch + handoff;
  const source = Math.max(facts.sourceMsPerBatch, 0.001);
  const needed = Math.ceil(perCopy / source);
  const concurrency = Math.max(1, Math.min(facts.cores, needed));
  const head = `${why}, ${fmt(cost.msPerBatch)} ms/batch vs ${fmt(handoff)} ms hand-off`;
  const sourcePace = `${fmt(facts.sourceMsPerBatch)} ms/batch, ${facts.cores} cores`;
  // Capped by the cores, the copies may still be slower than the source: say so, and by how
  // much, rather than claim they keep up (they set the run's pace then).
  const slower = perCopy / concurrency / source;
  if (needed > concurrency && slower >= 1.1) {
    return {
      mode,
      concurrency,
      reason: `${head}; ${concurrency} cop${concurrency === 1 ? 'y (one per core) is' : 'ies (one per core) are'} still about ${slower.toFixed(1)}× slower than the source (${sourcePace}): this stage sets the run's pace`,
    };
  }
  return { mode, concurrency, reason: `${head}; ${concurrency} cop${concurrency === 1 ? 'y keeps' : 'ies keep'} up with the source (${sourcePace})` };
}
