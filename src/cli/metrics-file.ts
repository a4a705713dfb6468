/**
 * `--metrics <file.prom>`: the run's numbers as OpenMetrics text, for node_exporter's textfile
 * collector (or any scraper of files), so a nightly job reaches Prometheus without a server.
 * The collector's convention: write a temporary sibling and rename it, so a scrape never sees
 * half a file. Values are gauges of the last run (Prometheus' advice for batch jobs: a job's
 * last duration, rows, success and start time, not counters that reset every run); no
 * timestamps (the collector refuses them).
 */
import type { RunReport, SinkReport } from '../runtime/types';
import { sinksOf } from './report-sinks';
import { USUAL_MODE, writeWholeFile } from './whole-file';

export interface Family {
  name: string;
  help: string;
  unit?: string;
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

/** A label value escaped as the format says: backslash, double quote and newline. */
const labelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const helpText = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export function renderOpenMetrics(r: RunReport): string {
  const p = { pipeline: r.pipeline };
  const run = (name: string, help: string, value: number, unit?: string): Family => ({ name, help, unit, samples: [{ labels: p, value }] });
  const perStage = (name: string, help: string, value: (s: RunReport['stages'][number]) => number, unit?: string): Family => ({
    name,
    help,
    unit,
    samples: r.stages.map((s) => ({ labels: { ...p, stage: s.name }, value: value(s) })),
  });
  const sinks = sinksOf(r);
  // One sink: labelled by the pipeline alone, as before runs had several; several: by sink too.
  const perSink = (name: string, help: string, value: (s: SinkReport) => number | undefined, unit?: string): Family => ({
    name,
    help,
    unit,
    samples: sinks.flatMap((s) => {
      const v = value(s);
      return v === undefined ? [] : [{ labels: sinks.length === 1 ? p : { ...p, sink: s.name ?? 'sink' }, value: v }];
    }),
  });
  const families: Family[] = [
    run('sluice_run_success', 'Whether the last run succeeded (1) or failed (0).', r.ok ? 1 : 0),
    // A run killed after its commit failed (0 above), yet its output is complete and in place.
    run('sluice_run_committed', 'Whether the last run published its output (1): it succeeded, or died after its sink committed.', r.ok || r.committed ? 1 : 0),
    // Only when it happened: a run that died with its commit decided (the journal whole) and not finished.
    ...(r.commitPending ? [run('sluice_run_commit_pending', 'Whether the last run died in the middle of a commit its journal decides (1): `sluice recover` or the next run on its paths publishes the rest.', 1)] : []),
    run('sluice_run_start_timestamp_seconds', 'When the last run started, in seconds since the Unix epoch.', Date.parse(r.startedAt) / 1000, 'seconds'),
    run('sluice_run_duration_seconds', 'How long the last run took.', r.durationMs / 1000, 'seconds'),
    run('sluice_run_startup_seconds', 'Of the duration: opening source and sink and starting every stage.', r.startupMs / 1000, 'seconds'),
    run('sluice_run_peak_rss_bytes', 'Peak resident memory of the run (main process plus child processes).', r.peakRssBytes, 'bytes'),
    run('sluice_source_files', 'Input files read.', r.source.files),
    run('sluice_source_rows', 'Rows read from the source.', r.source.rows),
    run('sluice_source_bytes', 'Bytes of Arrow batches read from the source.', r.source.bytes, 'bytes'),
    perSink('sluice_sink_rows', 'Rows written to the sink.', (s) => s.rows),
    perSink('sluice_sink_bytes', 'Bytes of Arrow batches handed to the sink.', (s) => s.bytes, 'bytes'),
    perSink('sluice_parquet_encoder_busy_seconds', 'Seconds the Parquet encoder threads worked (reading batches, parsing CSV, encoding row groups).', (s) => s.encoder && s.encoder.busyMs / 1000, 'seconds'),
    perSink('sluice_parquet_encoder_slot_wait_seconds', 'Seconds the sink waited for a free Parquet encoder slot.', (s) => s.encoder && s.encoder.slotWaitMs / 1000, 'seconds'),
    perStage('sluice_stage_copies', 'Copies of the stage that ran.', (s) => s.copies),
    perStage('sluice_stage_busy_seconds', 'Copy-seconds the stage spent running batches.', (s) => s.busyMs / 1000, 'seconds'),
    perStage('sluice_stage_idle_seconds', 'Copy-seconds a free copy waited for input.', (s) => s.idleMs / 1000, 'seconds'),
    perStage('sluice_stage_blocked_seconds', 'Copy-seconds a free copy waited for room in its output.', (s) => s.blockedMs / 1000, 'seconds'),
    perStage('sluice_stage_batches_in', 'Batches into the stage.', (s) => s.batchesIn),
    perStage('sluice_stage_batches_out', 'Batches out of the stage.', (s) => s.batchesOut),
    perStage('sluice_stage_rows_in', 'Rows into the stage.', (s) => s.rowsIn),
    perStage('sluice_stage_rows_out', 'Rows out of the stage.', (s) => s.rowsOut),
    {
      // Per place and action, not per reason: a reason is free text (a stage's message), no label value.
      name: 'sluice_rejected_rows',
      help: 'Rows skipped or dead-lettered (onError), by place (source or a stage) and action.',
      samples: rejectedByPlace(r).map(({ place, action, rows }) => ({ labels: { ...p, place, action }, value: rows })),
    },
  ];
  return renderFamilies(families);
}

/** Gauge families as OpenMetrics text (families without samples left out), ending with `# EOF`. */
export function renderFamilies(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (!f.samples.length) continue;
    lines.push(`# TYPE ${f.name} gauge`);
    if (f.unit) lines.push(`# UNIT ${f.name} ${f.unit}`);
    lines.push(`# HELP ${f.name} ${helpText(f.help)}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {}).map(([k, v]) => `${k}="${labelValue(v)}"`);
      lines.push(`${f.name}${labels.length ? `{${labels.join(',')}}` : ''} ${number(s.value)}`);
    }
  }
  lines.push('# EOF');
  return lines.join('\n') + '\n';
}

function number(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

/** Write the file whole: a temporary sibling, then a rename (what the textfile collector expects). */
export function writeMetricsFile(file: string, r: RunReport, beforeRename?: (tmp: string) => void): void {
  // No params and no paths in it, and a collector of another user reads it: the usual mode.
  writeWholeFile(file, renderOpenMetrics(r), USUAL_MODE, beforeRename);
}

/**
 * The report of a run that died after its sinks committed (what the death watch writes for it):
 * success 0, committed 1, each sink's rows; the rest of its numbers died with it. `pending`: it
 * died in the middle of a commit of several outputs whose journal decides it: committed 0,
 * commit pending 1, until `sluice recover` (or the next run) publishes the rest.
 */
export function diedAfterCommit(pipeline: string, sinks: readonly { target: string; rows: number; sink?: string }[], pending = false): RunReport {
  const failed = failedBeforeRun(pipeline);
  const targets = sinks.map((s) => s.target);
  const reports = sinks.map((s) => ({ name: s.sink, rows: s.rows, batches: 0, bytes: 0, path: s.target, files: [s.target], busyMs: 0 }));
  return {
    ...failed,
    ...(pending ? { commitPending: targets } : { committed: targets }),
    sink: reports.length === 1 ? reports[0] : { ...failed.sink, rows: reports.reduce((n, s) => n + s.rows, 0), files: targets },
    ...(reports.length > 1 && { sinks: reports }),
  };
}

/** The report of a run that failed before it started (a config error): zeros, and success 0. */
export function failedBeforeRun(pipeline: string): RunReport {
  const zero = { rows: 0, batches: 0, bytes: 0, busyMs: 0 };
  return {
    pipeline,
    ok: false,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    startupMs: 0,
    source: { ...zero, files: 0, blockedMs: 0 },
    stages: [],
    sink: { ...zero, path: '', files: [] },
    channels: [],
    peakRssBytes: 0,
  };
}

function rejectedByPlace(r: RunReport): { place: string; action: string; rows: number }[] {
  const sums = new Map<string, { place: string; action: string; rows: number }>();
  for (const c of r.rejected?.counts ?? []) {
    const key = `${c.place}\0${c.action}`;
    const sum = sums.get(key) ?? { place: c.place, action: c.action, rows: 0 };
    sum.rows += c.rows;
    sums.set(key, sum);
  }
  return [...sums.values()];
}
