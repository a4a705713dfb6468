/**
 * `sluice run --cluster …` and `sluice worker`: the CLI side of src/cluster (loaded only when
 * one of them is used, so neither --help nor an embedded run loads bullmq or ioredis).
 */
import path from 'node:path';
import { durationMs } from '../config/duration';
import { createRootLogger } from '../log';
import { SluiceError } from '../errors';
import { runCluster, type ClusterReport } from '../cluster/driver';
import { runWorker } from '../cluster/worker';
import { cancelRun, listRuns, runStatus } from '../cluster/admin';
import { SIGNAL_EXIT } from './exit-code';
import { safeBlock } from './terminal-text';
import { ProgressDisplay } from './progress';
import { renderClusterProgress } from './cluster-progress';
import { renderClusterHtml } from './report-html/cluster-page';
import { writeClusterMetrics } from './cluster-metrics';
import { count, ms } from './format';
import { PRIVATE_MODE, writeWholeFile } from './whole-file';

interface ClusterRunArgs {
  config: string;
  mode?: string[];
  concurrency?: string[];
  'sink-path'?: string[] | string;
  'source-path'?: string[];
  set?: string[];
  cluster?: string;
  'run-id'?: string;
  attempts: number;
  'lock-duration': string;
  'worker-concurrency': number;
  'warm-workers': boolean;
  report?: string;
  metrics?: string;
  'log-level': string;
  quiet: boolean;
}

function say(text: string): void {
  process.stderr.write(safeBlock(text));
}

function lockMs(value: string): number {
  const ms = durationMs(value);
  if (ms === undefined || ms < 1000) throw new Error(`--lock-duration ${value}: give a duration of at least 1s, e.g. 30s`);
  return ms;
}

/** Signals stop the driver (or worker) cleanly: its local cluster is stopped, the exit code says which signal. */
function onSignals(controller: AbortController): { code: () => number; off: () => void } {
  let code = 0;
  const handler = (signal: NodeJS.Signals) => {
    code ||= SIGNAL_EXIT[signal] ?? 1;
    controller.abort(signal);
  };
  for (const s of Object.keys(SIGNAL_EXIT)) process.on(s, handler);
  return { code: () => code, off: () => Object.keys(SIGNAL_EXIT).forEach((s) => process.off(s, handler)) };
}

export async function clusterRun(args: ClusterRunArgs): Promise<number> {
  const controller = new AbortController();
  const signals = onSignals(controller);
  const log = createRootLogger({ level: args['log-level'] });
  const sinkPath = args['sink-path'] === undefined ? undefined : ([] as string[]).concat(args['sink-path']);
  let report: ClusterReport | undefined;
  let code = 0;
  // On a terminal: the live display (units and rows across workers, ETA), redrawn at every poll; else a line per unit done.
  const display = process.stderr.isTTY && !args.quiet ? new ProgressDisplay(process.stderr) : undefined;
  try {
    report = await runCluster({
      config: path.resolve(args.config),
      overrides: { mode: args.mode, concurrency: args.concurrency, sinkPath, sourcePath: args['source-path'], set: args.set },
      cluster: args.cluster!,
      ...(args['run-id'] !== undefined && { runId: args['run-id'] }),
      attempts: args.attempts,
      lockDurationMs: lockMs(args['lock-duration']),
      workerConcurrency: args['worker-concurrency'],
      warmWorkers: args['warm-workers'],
      log,
      signal: controller.signal,
      onUnit: (u, done, total) => {
        if (display || args.quiet) return;
        say(`unit ${done}/${total} done: ${u.file} (${u.rows} rows, ${u.worker}${u.attempts > 1 ? `, ${u.attempts} attempts` : ''})\n`);
      },
      ...(display && { onProgress: (p) => display.show(renderClusterProgress(p)) }),
    });
    display?.clear();
    if (!args.quiet) say(renderClusterReport(report) + '\n');
  } catch (err) {
    display?.clear();
    say(`sluice: ${err instanceof SluiceError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    report = { pipeline: '', runId: args['run-id'] ?? '', ok: false, cluster: args.cluster ?? '', durationMs: 0, units: [], rows: 0, sinks: [], error: err instanceof Error ? err.message : String(err) };
    code = signals.code() || 1;
  } finally {
    signals.off();
  }
  for (const [what, file, write] of [
    ['report', args.report, writeReport],
    ['metrics', args.metrics, writeClusterMetrics],
  ] as const) {
    if (!file) continue;
    try {
      write(file, report);
    } catch (err) {
      say(`sluice: cannot write the ${what} file ${file}: ${(err as Error).message}\n`);
      code ||= 1;
    }
  }
  return code;
}

/** `--report`: JSON, or with a `.html` name the page (report-html/cluster-page.ts); written whole (temporary sibling, then rename). */
function writeReport(file: string, report: ClusterReport): void {
  const text = /\.html?$/i.test(file) ? renderClusterHtml(report) : JSON.stringify(report, null, 2) + '\n';
  // Whole, and 0600 like a run's report (whole-file.ts): it names the inputs and outputs.
  writeWholeFile(file, text, PRIVATE_MODE);
}

export function renderClusterReport(r: ClusterReport): string {
  if (r.alreadyCommitted) return `✔ run ${r.runId} was committed already: nothing to do`;
  const retried = r.units.filter((u) => u.attempts > 1);
  const workers = new Set(r.units.map((u) => u.worker));
  const lines = [
    `✔ ${r.pipeline}: run ${r.runId} committed on ${r.cluster}: ${r.units.length} units, ${r.rows} rows read, by ${workers.size} worker(s) in ${(r.durationMs / 1000).toFixed(1)} s`,
    ...(r.reattached ? [`  re-attached: ${r.reattached.doneBefore.length} unit(s) were done before this driver started`] : []),
    ...retried.map((u) => `  unit ${u.unit} (${u.file}) ran ${u.attempts} times (retried, or its worker died); its last attempt's output was committed`),
    ...(r.workers ?? []).map((w) => `  ${w.worker}: ${w.units} unit(s)${w.warmUnits ? ` (${w.warmUnits} on warm copies)` : ''}, ${count(w.rows)} rows, busy ${ms(w.busyMs)} (start-up ${ms(w.startupMs)}), CPU ${ms(w.cpuMs)}`),
    ...(r.commit ? [`  commit: ${ms(r.commit.ms)} on ${r.commit.worker}${r.commit.attempts > 1 ? ` (${r.commit.attempts} attempts)` : ''}`] : []),
    ...r.sinks.map((s) => `  → ${s.path}: ${s.rows} rows, ${s.files.length} file(s)`),
    ...(r.rejected?.rows ? [`  rejected: ${r.rejected.rows} rows (${r.rejected.counts.map((c) => `${c.place}, ${c.action}: ${c.reason} × ${c.rows}`).join('; ')})`] : []),
  ];
  return lines.join('\n');
}

export async function workerCommand(args: { cluster: string; concurrency: number; 'lock-duration': string; 'log-level': string; warm: boolean }): Promise<number> {
  const controller = new AbortController();
  const signals = onSignals(controller);
  const log = createRootLogger({ level: args['log-level'] });
  // Started by a driver's --cluster local: stop when the driver goes, even if it was SIGKILLed.
  if (process.send) process.on('disconnect', () => controller.abort('the driver is gone'));
  const stop = new Promise((resolve) => controller.signal.addEventListener('abort', resolve, { once: true }));
  try {
    await runWorker({ url: args.cluster, concurrency: args.concurrency, lockDurationMs: lockMs(args['lock-duration']), log, stop, warm: args.warm });
    return signals.code();
  } catch (err) {
    say(`sluice: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    signals.off();
  }
}

export async function statusCommand(args: { cluster: string; 'run-id'?: string; json: boolean }): Promise<number> {
  try {
    if (args['run-id'] === undefined) {
      const runs = await listRuns(args.cluster);
      process.stdout.write(safeBlock(args.json ? JSON.stringify(runs, null, 2) + '\n' : runs.length ? runs.map((r) => `${r.runId}  ${r.state}  ${r.units} units  ${r.pipeline}`).join('\n') + '\n' : 'no cluster runs in this Redis\n'));
      return 0;
    }
    const s = await runStatus(args.cluster, args['run-id']);
    if (args.json) {
      process.stdout.write(safeBlock(JSON.stringify(s, null, 2) + '\n'));
      return 0;
    }
    const counts = new Map<string, number>();
    for (const u of s.units) counts.set(u.state, (counts.get(u.state) ?? 0) + 1);
    const lines = [
      `run ${s.runId}: ${s.state === 'completed' ? 'committed' : s.state}; units: ${[...counts].map(([state, n]) => `${n} ${state}`).join(', ')}`,
      ...s.units.filter((u) => u.state === 'failed').map((u) => `  unit ${u.unit} (${u.file}) failed after ${u.attempts} attempt(s): ${u.reason}`),
      ...s.units.filter((u) => u.attempts > 1 && u.state !== 'failed').map((u) => `  unit ${u.unit} (${u.file}): ${u.attempts} attempts`),
      ...(s.failedReason ? [`  ${s.failedReason}`] : []),
      // A run no driver follows goes on (workers run its units and commit it) but nobody reports it or cleans up after a failure.
      ...(s.driver
        ? [`  followed by the driver ${s.driver}`]
        : s.state === 'completed'
          ? []
          : s.state === 'failed' || s.units.some((u) => u.state === 'failed')
            ? [`  no driver follows it: start the driver again with --run-id ${s.runId} (or sluice cancel) to remove its jobs and staging`]
            : [`  no driver follows it (killed or stopped): the workers go on and commit it; start the driver again with --run-id ${s.runId} to follow it, or sluice cancel`]),
    ];
    process.stdout.write(safeBlock(lines.join('\n') + '\n'));
    return 0;
  } catch (err) {
    say(`sluice: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

export async function cancelCommand(args: { cluster: string; 'run-id': string }): Promise<number> {
  try {
    // Its warnings (a unit it waits for, a config it cannot read) are said; nothing else.
    const r = await cancelRun(args.cluster, args['run-id'], createRootLogger({ level: 'warn' }));
    say(`run ${args['run-id']} cancelled: ${r.removed} job(s) removed${r.waitedFor.length ? `, once unit(s) ${r.waitedFor.join(', ')} had stopped on their workers` : ''}; its staging is removed, nothing of it is committed\n`);
    return 0;
  } catch (err) {
    say(`sluice: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
