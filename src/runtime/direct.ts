/**
 * A plain CSV → Parquet conversion (no stages, one output file) runs without Arrow in
 * between: the main thread reads and cuts the CSV into checked chunks of whole rows, one row
 * group each, and the Parquet encoder threads parse each chunk with polars and encode it at
 * once, up to one thread per core, while the main thread writes the parts in order. Through
 * the batch path the same job parses into Arrow, hands the batch over, and polars copies it
 * back in before encoding: two passes over every byte, and one encoding thread.
 *
 * Same output as the batch path (the same polars parse with the same fixed types), same
 * errors (file, line, column), same atomic commit.
 */
import { openSink, type Sink } from '../io/sinks';
import { openCsvChunks, type CsvChunkSource } from '../io/sources';
import { PROGRESS_INTERVAL_MS } from '../defaults';
import { createRootLogger } from '../log';
import type { Plan } from '../plan/types';
import { round } from './metrics';
import { ProgressTracker, type ProgressSource } from './progress';
import { attachFailure } from './report-attach';
import { inputSize } from './input-size';
import { SampleRecorder } from './samples';
import type { RunGuard } from './guard';
import type { RunOptions, RunReport } from './types';
import { encoderWorkSince } from './encoder-work';

export async function runDirect(plan: Plan, direct: NonNullable<Plan['direct']>, opts: RunOptions, guard: RunGuard): Promise<RunReport> {
  const log = opts.log ?? createRootLogger();
  const startedAt = new Date();
  const t0 = performance.now();
  const encoder = encoderWorkSince(plan.sink.format);
  let sink: Sink | undefined;
  let source: CsvChunkSource | undefined;
  let progress: ProgressTracker | undefined;
  let samples: SampleRecorder | undefined;
  let startupMs = 0;
  let sourceDone = false;
  const meters = { sourceBusyMs: 0, sinkBusyMs: 0, sinkRows: 0, sinkBatches: 0, sinkBytes: 0 };
  const report = (ok: boolean, files: string[]): RunReport => {
    const stats = source?.stats();
    const work = encoder();
    return {
      pipeline: plan.name,
      params: { ...plan.params.values },
      ok,
      startedAt: startedAt.toISOString(),
      durationMs: round(performance.now() - t0),
      startupMs: round(startupMs),
      source: { rows: stats?.rows ?? 0, batches: stats?.batches ?? 0, bytes: stats?.bytesRead ?? 0, files: stats?.files ?? 0, busyMs: round(meters.sourceBusyMs), blockedMs: 0 },
      stages: [],
      sink: { rows: meters.sinkRows, batches: meters.sinkBatches, bytes: meters.sinkBytes, path: plan.sink.path, files, busyMs: round(meters.sinkBusyMs), ...(work && { encoder: work }) },
      channels: [],
      direct: { rowsPerChunk: direct.rowsPerChunk },
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      ...(samples ? { timeline: { stages: [], samples: samples.export() } } : {}),
    };
  };
  try {
    sink = await openSink(plan.sink, { log, pipeline: plan.name });
    guard.throwIfFailed();
    if (!sink.writeCsv) throw new Error('internal: a direct conversion needs a sink that parses CSV');
    source = openCsvChunks(plan.source, direct.rowsPerChunk, { log });
    startupMs = performance.now() - t0;
    log.info({ pipeline: plan.name, files: source.files.length, stages: 0, direct: true }, 'run started');
    {
      const src = source;
      const totalBytes = inputSize(src.files);
      const view: ProgressSource = {
        inputBytes: () => ({ bytesRead: src.stats().bytesRead, totalBytes }),
        encoder,
        meters: [],
        channels: [{ depth: 0 }],
        get sourceMeter() {
          const s = src.stats();
          return { rows: s.rows, batches: s.batches, bytes: s.bytesRead, busyMs: meters.sourceBusyMs, blockedMs: 0 };
        },
        get sinkMeter() {
          return { rows: meters.sinkRows, batches: meters.sinkBatches, bytes: meters.sinkBytes, busyMs: meters.sinkBusyMs };
        },
        get sourceFinished() {
          return sourceDone;
        },
      };
      // No stages and no channels: the samples give rows/s and memory over time.
      samples = new SampleRecorder(view, t0, []);
      samples.start();
      if (opts.onProgress) progress = new ProgressTracker(view, t0, opts.onProgress, opts.progressIntervalMs ?? PROGRESS_INTERVAL_MS);
    }

    const chunks = source.chunks();
    for (;;) {
      let t = performance.now();
      const next = await guard.race(chunks.next());
      meters.sourceBusyMs += performance.now() - t;
      if (next.done) break;
      t = performance.now();
      // Resolves once the text is in an encoder slot; all slots busy = the source waits here.
      await guard.race(sink.writeCsv(next.value));
      meters.sinkBusyMs += performance.now() - t;
      meters.sinkRows += next.value.rows;
      meters.sinkBatches++;
      meters.sinkBytes += next.value.text.length - next.value.prefixLength;
    }
    sourceDone = true;
    await guard.race(source.close());
    const t = performance.now();
    const result = await sink.commit();
    meters.sinkBusyMs += performance.now() - t;
    progress?.stop(true);
    samples?.stop();
    const done = report(true, result.files);
    log.info({ pipeline: plan.name, rows: done.sink.rows, ms: done.durationMs }, 'run finished');
    return done;
  } catch (err) {
    guard.fail(err);
    progress?.stop(false);
    samples?.stop();
    await source?.close().catch(() => undefined);
    await sink?.abort();
    attachFailure(err, report(false, []));
    throw err;
  }
}
