/**
 * `sluice run --cluster … --metrics <file.prom>`: the cluster run's numbers as OpenMetrics text
 * (gauges of the last run, as metrics-file.ts writes an embedded run's), per run, per worker and
 * per unit attempt count: what a nightly job's dashboard shows of a run on many machines.
 */
import { USUAL_MODE, writeWholeFile } from './whole-file';
import type { ClusterReport } from '../cluster/driver';
import { renderFamilies, type Family } from './metrics-file';

export function renderClusterMetrics(r: ClusterReport): string {
  const p = { pipeline: r.pipeline };
  const run = (name: string, help: string, value: number, unit?: string): Family => ({ name, help, unit, samples: [{ labels: p, value }] });
  const perWorker = (name: string, help: string, value: (w: NonNullable<ClusterReport['workers']>[number]) => number, unit?: string): Family => ({
    name,
    help,
    unit,
    samples: (r.workers ?? []).map((w) => ({ labels: { ...p, worker: w.worker }, value: value(w) })),
  });
  return renderFamilies([
    run('sluice_run_success', 'Whether the last run succeeded (1) or failed (0).', r.ok ? 1 : 0),
    ...(r.startedAt ? [run('sluice_run_start_timestamp_seconds', 'When the last run started, in seconds since the Unix epoch.', Date.parse(r.startedAt) / 1000, 'seconds')] : []),
    run('sluice_run_duration_seconds', 'How long the last run took (the driver, from plan to commit).', r.durationMs / 1000, 'seconds'),
    run('sluice_source_rows', 'Rows read from the source, over every unit.', r.rows),
    run('sluice_cluster_units', 'Units (input files) of the last run.', r.units.length),
    run('sluice_cluster_unit_attempts', 'Attempts of every unit together (more than units: some were retried or ran again after their worker died).', r.units.reduce((n, u) => n + u.attempts, 0)),
    run('sluice_cluster_units_retried', 'Units that took more than one attempt.', r.units.filter((u) => u.attempts > 1).length),
    ...(r.commit ? [run('sluice_cluster_commit_seconds', 'How long the commit job took.', r.commit.ms / 1000, 'seconds')] : []),
    perWorker('sluice_cluster_worker_units', 'Units the worker ran (their last attempts).', (w) => w.units),
    perWorker('sluice_cluster_worker_rows', 'Rows the worker read.', (w) => w.rows),
    perWorker('sluice_cluster_worker_busy_seconds', 'Wall time of the worker\'s units, summed.', (w) => w.busyMs / 1000, 'seconds'),
    perWorker('sluice_cluster_worker_cpu_seconds', 'CPU time of the worker process over its units (child processes of process-mode stages not included).', (w) => w.cpuMs / 1000, 'seconds'),
    perWorker('sluice_cluster_worker_warm_units', 'Units the worker ran on copies an earlier unit had started.', (w) => w.warmUnits),
  ]);
}

/** Written whole, with the usual mode like a run's metrics (whole-file.ts): no params, no paths, read by a collector. */
export function writeClusterMetrics(file: string, r: ClusterReport): void {
  writeWholeFile(file, renderClusterMetrics(r), USUAL_MODE);
}
