/**
 * A unit job on a worker: the normal engine (same stages, modes and copies as the config)
 * over the unit's input file alone, with each sink's batches staged in this attempt's own
 * directory under the sink's staging area (`.<sink>.sluice-staging/<runId>/_temporary/<attempt>/`).
 * Only the attempt that still holds the job's lock can record its result in BullMQ (first
 * committer wins); a lost attempt's files are never named in a result, and go with the
 * staging at the commit. A unit of a run that is over (failed, cancelled, gone from Redis:
 * run-state.ts) is dropped, before it starts, while it runs or before it is recorded, and what
 * it staged is removed at once: the run's driver removes the staging once no worker holds a unit.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, rmdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { ClusterError } from '../errors';
import { stagingDirOf } from '../io/units/units';
import { stopAtClusterUnit } from '../io/sinks/stop-at';
import { planFingerprint, runPlan } from '../runtime/run';
import type { RunOptions } from '../runtime/types';
import type { Fingerprint } from '../io/units/manifest';
import type { UnitJobData, UnitResult } from './jobs';
import { clusterPlan, type ClusterPlan } from './plan';
import type { WarmCopies } from '../runtime/warm-copies';

/** This process, as the report names it. */
export const WORKER_NAME = `${hostname()}:${process.pid}`;

/** A config's plan, built once per config and overrides (the worker keeps it across the run's units). */
const plans = new Map<string, Promise<ClusterPlan>>();

export function planOf(data: Pick<UnitJobData, 'config' | 'overrides'>): Promise<ClusterPlan> {
  const key = JSON.stringify([data.config, data.overrides]);
  let p = plans.get(key);
  if (!p) {
    p = clusterPlan(data.config, data.overrides);
    plans.set(key, p);
    p.catch(() => plans.delete(key));
  }
  return p;
}

/** Refuse a job made from another config or stage modules than the copies this worker sees: name what differs. */
export function refuseOtherPipeline(data: UnitJobData | { runId: string; fingerprint: Omit<Fingerprint, 'inputs'>; config: string }, mine: Omit<Fingerprint, 'inputs'>, unit?: { unit: number; file: string }): void {
  const theirs = data.fingerprint;
  const diffs: string[] = [];
  if (theirs.config !== mine.config) diffs.push(`the config ${data.config} (or its overrides) hashes ${mine.config.slice(0, 12)} here, ${theirs.config.slice(0, 12)} on the driver`);
  for (const name of new Set([...Object.keys(theirs.stages), ...Object.keys(mine.stages)])) {
    if (theirs.stages[name] !== mine.stages[name]) diffs.push(`the module of stage "${name}" hashes ${mine.stages[name]?.slice(0, 12) ?? '(missing)'} here, ${theirs.stages[name]?.slice(0, 12) ?? '(missing)'} on the driver`);
  }
  if (diffs.length) {
    throw new ClusterError(`worker ${WORKER_NAME} refuses run ${data.runId}: ${diffs.join('; ')}. Every machine must run the same pipeline files (deploy them to the shared path, then start the run again)`, { runId: data.runId, ...unit });
  }
}

export interface UnitRunOptions {
  /** The worker's warm copies (runtime/warm-copies.ts): without them, every unit starts its copies cold. */
  warm?: WarmCopies;
  /** Told the unit's progress while it runs (the worker passes it to BullMQ: job.updateProgress). */
  onProgress?: RunOptions['onProgress'];
  progressIntervalMs?: number;
  /**
   * Asked once the unit is staged: whether this attempt still holds its job's lock. One that
   * lost it (paused, or too busy, past --lock-duration: the unit was given to another worker
   * meanwhile) cannot record its result anyway (BullMQ refuses a completion without the lock);
   * it removes its own attempt directories at once, so nothing it staged outlives it, even when
   * it comes back after the run committed and removed the staging.
   */
  held?: () => Promise<boolean>;
  /**
   * Why the unit's run is over (failed, cancelled, gone: run-state.ts), or undefined while it goes
   * on. Asked before the engine starts (the last moment before it opens this attempt's staging),
   * every `overPollMs` while the unit runs (a run that ended stops the engine: at once, or at the
   * end of the batch in hand when a stage holds the event loop), and before the result is recorded.
   * A unit of a run that is over is dropped: what it staged is removed, nothing is recorded.
   */
  over?: () => Promise<string | undefined>;
  overPollMs?: number;
}

/** A unit of a run that is over (failed, cancelled, gone): dropped by its worker, nothing of it kept. Not retried. */
export class DroppedUnit extends ClusterError {}

function dropped(data: UnitJobData, why: string, when: string): DroppedUnit {
  return new DroppedUnit(`worker ${WORKER_NAME} dropped unit ${data.unit} (${data.file}) of run ${data.runId} ${when}: ${why}; nothing of it is kept`, { runId: data.runId, unit: data.unit, file: data.file });
}

export async function runUnit(data: UnitJobData, attempt: number, log: Logger, opts: UnitRunOptions = {}): Promise<UnitResult> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const cpu0 = process.cpuUsage();
  const { plan } = await planOf(data);
  refuseOtherPipeline(data, planFingerprint(plan), { unit: data.unit, file: data.file });
  // The run may have ended while the plan was built: checked before the engine opens the staging.
  const before = await opts.over?.();
  if (before !== undefined) throw dropped(data, before, 'before it started it');
  const attemptDir = `${String(data.unit).padStart(6, '0')}-a${attempt}-${randomBytes(4).toString('hex')}`;
  const dirs = plan.sinks.map((s) => path.join(stagingDirOf(path.resolve(s.config.path)), data.runId, '_temporary', attemptDir));
  const range = data.groups && { groups: data.groups, firstRow: data.firstRow };
  const set = await opts.warm?.take(data.runId, plan, log);
  let ok = false;
  // The run ending while the unit runs: the engine is stopped (its teardown removes nothing of the attempt: removeAttempt below does).
  const stop = new AbortController();
  let over: string | undefined;
  let asking = false;
  const watch = opts.over
    ? setInterval(() => {
        if (asking || over !== undefined) return;
        asking = true;
        opts.over!()
          .then((why) => {
            if (why === undefined || over !== undefined) return;
            over = why;
            stop.abort(`the run is over: ${why}`);
          })
          // A check that fails (Redis away a moment) is asked again at the next tick; before recording it must answer.
          .catch(() => undefined)
          .finally(() => (asking = false));
      }, opts.overPollMs ?? 1000)
    : undefined;
  try {
    // Before the run: the plan (once per config on this worker), the refusal check, the copies' start (cold) or nothing (warm).
    const beforeRunMs = performance.now() - t0;
    const report = await runPlan(
      plan,
      {
        log,
        stageUnit: { unit: data.unit, file: data.file, dirs, ...range, ...(data.fixedTypes && { fixedTypes: data.fixedTypes }) },
        ...(opts.onProgress && { onProgress: opts.onProgress, progressIntervalMs: opts.progressIntervalMs }),
        signal: stop.signal,
      },
      set?.adopter(log, () => undefined),
    );
    stopAtClusterUnit(data.unit);
    // Before recording: a unit of a run that ended meanwhile is not recorded (its commit will never come).
    const after = over ?? (await opts.over?.());
    if (after !== undefined) {
      over = after;
      removeAttempt(dirs);
      throw dropped(data, after, 'before it recorded it');
    }
    if (opts.held && !(await opts.held())) {
      removeAttempt(dirs);
      throw new ClusterError(
        `worker ${WORKER_NAME} lost the lock of unit ${data.unit} (${data.file}) of run ${data.runId} before it could record its result (this process was paused or too busy past the lock duration, and the unit was handed to another worker); this attempt's staged files are removed and never committed`,
        { runId: data.runId, unit: data.unit, file: data.file },
      );
    }
    ok = true;
    const cpu = process.cpuUsage(cpu0);
    return {
      unit: data.unit,
      file: data.file,
      // A range of the file's row groups: the report names the unit by it (driver.ts unitReport).
      ...(data.groups && { groups: data.groups }),
      sinks: report.staged ?? [],
      ...(report.stagedCut !== undefined && { cut: report.stagedCut }),
      ...(report.stagedDead !== undefined && { dead: report.stagedDead }),
      ...(report.stagedRejects !== undefined && { rejects: report.stagedRejects }),
      // Rows read: those the source passed on and those it took out (onError), as an embedded run's report counts them.
      rows: report.stagedRejects?.sourceRows ?? report.source.rows,
      worker: WORKER_NAME,
      ms: Math.round(performance.now() - t0),
      startedAt,
      // From the job's start to every copy ready: what a cold start costs, and warm copies save.
      startupMs: Math.round(beforeRunMs + report.startupMs),
      // This process's CPU over the unit (its threads included; child processes not): beside wall time, what a unit costs a core.
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      warm: set ? set.uses > 1 : false,
    };
  } catch (err) {
    if (over === undefined || err instanceof DroppedUnit) throw err;
    // Stopped because the run ended: the engine's teardown has ended every write; what the attempt staged goes now.
    removeAttempt(dirs);
    throw dropped(data, over, 'while it ran it (at its next batch)');
  } finally {
    if (watch) clearInterval(watch);
    if (set) await opts.warm!.give(data.runId, set, ok);
    // The run's other units will not come: its warm copies here have no more work.
    if (over !== undefined) await opts.warm?.end(data.runId);
  }
}

/**
 * An attempt's directories, and the folders above them that are left empty (`_temporary`, the
 * run's, the staging folder): only empty ones, since another attempt or run may still use them.
 */
function removeAttempt(dirs: string[]): void {
  for (const dir of dirs) {
    rmSync(dir, { recursive: true, force: true });
    // rmdir, not rm -r: it fails on a folder another attempt has just written into, which is kept.
    let up = path.dirname(dir);
    for (let i = 0; i < 3; i++, up = path.dirname(up)) {
      try {
        rmdirSync(up);
      } catch {
        break;
      }
    }
  }
}
