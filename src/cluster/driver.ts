/**
 * `sluice run --cluster …`: the driver. It plans the run (the config as every worker will see
 * it), cuts it into units (one per input file, or per range of a big Parquet file's row groups), resolves the source's column types once, and
 * adds one BullMQ flow: a commit job whose children are the units, each with
 * failParentOnFailure. Then it follows the flow until the commit job has committed (the only
 * success) or failed, and reports per unit: rows, worker, attempts. A driver that dies can be
 * started again with the same --run-id: it re-attaches to the flow already in Redis, and the
 * units already done stay done; a committed run is not run again. A run that fails (a unit for
 * good, or the commit) is dropped before the driver exits 1 (drop.ts): its jobs leave Redis, the
 * units workers hold are dropped by them, then its staging goes; no worker runs it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { FlowProducer, Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { ClusterError } from '../errors';
import { fixSourceTypes, type FixedSourceTypes } from '../io/sources';
import { cutUnits, describeUnit } from '../io/units/ranges';
import { planFingerprint } from '../runtime/run';
import { connectionFault, parseClusterTarget, redisOptions } from './connection';
import { QUEUE, commitJobId, unitJobId, type ClusterOverrides, type CommitJobData, type CommitResult, type UnitJobData, type UnitResult } from './jobs';
import { LocalCluster } from './local';
import { clusterPlan } from './plan';
import { removeStaging } from './commit';
import { dropRun } from './drop';
import { clearOver, driverAlive, driverGone } from './run-state';
import { clusterProgress, type ClusterProgress, type UnitView } from './progress';

export interface DriverOptions {
  config: string;
  overrides: ClusterOverrides;
  cluster: string;
  runId?: string;
  /** Attempts per unit (a unit that throws is retried; a data error fails at once). */
  attempts: number;
  lockDurationMs: number;
  /** Workers' concurrency with local:N. */
  workerConcurrency?: number;
  /** With local:N: false starts every unit cold (workers' --no-warm), to measure what warm copies save. */
  warmWorkers?: boolean;
  /** Told after every poll (the live display): units and rows across workers (cluster/progress.ts). */
  onProgress?: (p: ClusterProgress) => void;
  log: Logger;
  signal?: AbortSignal;
  /** Told each unit as it finishes (the progress lines). */
  onUnit?: (u: UnitReport, done: number, total: number) => void;
  /** Told once the flow is in Redis (tests signal workers from here). */
  onStarted?: (info: { runId: string; url: string; workerPids: number[]; redisPid?: number }) => void;
}

export interface UnitReport {
  unit: number;
  file: string;
  /** A range of the file's row groups (first, last) when the unit is one. */
  groups?: [number, number];
  rows: number;
  worker: string;
  /** Times a worker started it (more than 1: retried, or run again after its worker died). */
  attempts: number;
  ms: number;
  /** When its last attempt started (ISO), its start-up (copies ready), its worker process's CPU over it, and whether it ran on warm copies. */
  startedAt?: string;
  startupMs?: number;
  cpuMs?: number;
  warm?: boolean;
}

/** One worker's share of the run (from its units' results). */
export interface WorkerReport {
  worker: string;
  units: number;
  rows: number;
  /** Sum of its units' wall times, their start-ups, and its process's CPU over them. */
  busyMs: number;
  startupMs: number;
  cpuMs: number;
  /** Units it ran on copies an earlier unit had started. */
  warmUnits: number;
}

export interface ClusterReport {
  pipeline: string;
  runId: string;
  ok: boolean;
  cluster: string;
  /** True when this driver found the run committed already and did nothing. */
  alreadyCommitted?: boolean;
  /** Units this driver found done when it attached to a run already in Redis. */
  reattached?: { doneBefore: number[] };
  /** When the driver started (ISO). */
  startedAt?: string;
  durationMs: number;
  units: UnitReport[];
  workers?: WorkerReport[];
  rows: number;
  sinks: CommitResult['sinks'];
  rejected?: CommitResult['rejected'];
  commit?: { worker: string; ms: number; attempts: number };
  error?: string;
}

const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const POLL_MS = 200;

export async function runCluster(opts: DriverOptions): Promise<ClusterReport> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const target = parseClusterTarget(opts.cluster);
  if (opts.runId !== undefined && !RUN_ID.test(opts.runId)) throw new ClusterError(`--run-id "${opts.runId}": use 1 to 64 letters, digits, - or _ (it names the run's jobs and output files)`);
  const runId = opts.runId ?? `${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
  const { plan, files: inputs } = await clusterPlan(opts.config, opts.overrides);
  if (inputs.length === 0) throw new ClusterError(`the source ${String(plan.source.path)} matched no file: nothing to run`, { runId });
  // The units: a file each, or ranges of a big Parquet file's row groups (io/units/ranges.ts); `files[u]` is unit u's file.
  const units = await cutUnits(inputs, plan.source.format, plan.source.unitRows);
  const files = units.map((u) => u.file);
  const fingerprint = planFingerprint(plan);
  const spec = { runId, config: plan.configFile, overrides: opts.overrides, fingerprint };
  let local: LocalCluster | undefined;
  let queue: Queue | undefined;
  let flows: FlowProducer | undefined;
  /** The run cannot go on (a unit or the commit failed for good; a local cluster's Redis is gone with its jobs): its staging goes. */
  let over = false;
  /** The queue once the driver follows the run (its key in Redis says so: run-state.ts). */
  let following: Queue | undefined;
  try {
    if (target.kind === 'local') {
      local = await LocalCluster.start({
        workers: target.workers,
        workerArgs: ['--lock-duration', `${opts.lockDurationMs}ms`, '--concurrency', String(opts.workerConcurrency ?? 1), '--log-level', opts.log.level === 'silent' ? 'silent' : 'warn', ...(opts.warmWorkers === false ? ['--no-warm'] : [])],
      });
    }
    const url = local?.url ?? (target as { url: string }).url;
    const { label, ...connection } = redisOptions(url);
    let lost: Error | undefined;
    // Give up on a Redis that does not come back within ~10 s: the run fails instead of hanging.
    let fatal = false;
    const conn = { ...connection, retryStrategy: (times: number) => (fatal || times > 40 ? null : 250), maxRetriesPerRequest: 3 };
    queue = new Queue(QUEUE, { connection: conn });
    flows = new FlowProducer({ connection: conn });
    // A certificate that does not verify or a password refused: stop at once, waiting cannot cure it.
    let fault: ((err: Error) => void) | undefined;
    const faulted = new Promise<never>((_, reject) => (fault = reject));
    faulted.catch(() => undefined);
    const onError = (err: Error) => {
      lost ??= err;
      const f = connectionFault(err, label);
      if (f) {
        fatal = true;
        fault?.(f);
      }
    };
    queue.on('error', onError);
    flows.on('error', onError);
    const q = queue;
    const fail = (message: string, cause?: unknown) => new ClusterError(`run ${runId}: ${message}`, { runId }, cause);
    const redisCall = async <T>(what: Promise<T>): Promise<T> => {
      try {
        return await Promise.race([what, faulted, ...(local ? [local.died] : [])]);
      } catch (err) {
        if (err instanceof ClusterError) throw err;
        throw fail(`lost Redis at ${label} (${(err as Error).message}${lost && lost !== err ? `; ${lost.message}` : ''}); nothing was committed by this driver: start it again with --run-id ${runId} once Redis is back`, err);
      }
    };

    const existing = await redisCall(Job.fromId<CommitJobData, CommitResult>(q, commitJobId(runId)));
    let doneBefore: number[] | undefined;
    if (existing) {
      const theirs = existing.data.fingerprint;
      if (theirs.config !== fingerprint.config || JSON.stringify(theirs.stages) !== JSON.stringify(fingerprint.stages)) {
        throw fail('is in Redis with another config or stage modules than these (their hashes differ): use another --run-id for this pipeline');
      }
      doneBefore = (await unitStates(q, runId, files.length)).flatMap((s, u) => (s.state === 'completed' ? [u] : []));
      opts.log.info({ runId, done: doneBefore.length, units: files.length }, 're-attached to a run already in Redis');
    } else {
      // The column types once, from the first file (as the embedded run does), for every unit.
      const fixedTypes: FixedSourceTypes | undefined = plan.source.format === 'csv' || plan.source.format === 'ndjson' ? await fixSourceTypes(plan.source, files[0]) : undefined;
      // An earlier run with this id that failed and was dropped left its mark (run-state.ts): this is a new run.
      await redisCall(clearOver(q, runId));
      const unitOpts = { failParentOnFailure: true, attempts: opts.attempts, backoff: { type: 'fixed', delay: 200 }, removeOnComplete: false, removeOnFail: false };
      await redisCall(
        flows.add({
          name: 'commit',
          queueName: QUEUE,
          data: { ...spec, files } satisfies CommitJobData,
          opts: { jobId: commitJobId(runId), attempts: 3, backoff: { type: 'fixed', delay: 500 } },
          children: files.map((file, unit) => ({
            name: 'unit',
            queueName: QUEUE,
            data: { ...spec, unit, file, ...(units[unit].groups && { groups: units[unit].groups, firstRow: units[unit].firstRow }), ...(fixedTypes && { fixedTypes }) } satisfies UnitJobData,
            opts: { ...unitOpts, jobId: unitJobId(runId, unit) },
          })),
        }),
      );
      opts.log.info({ runId, units: files.length, redis: label }, 'cluster run started');
    }
    opts.onStarted?.({ runId, url, workerPids: local?.workerPids ?? [], ...(local?.redisPid !== undefined && { redisPid: local.redisPid }) });

    const seen = new Set<number>(doneBefore ?? []);
    following = q;
    /** Marks the run ended and removes its jobs, then its staging once no worker can write there (drop.ts); the failure is thrown after. */
    const dropAndThrow = async (err: ClusterError): Promise<never> => {
      over = true;
      try {
        const d = await redisCall(dropRun(q, { runId, units: files.length, targets: plan.sinks.map((s) => path.resolve(s.config.path)), why: err.message, log: opts.log, ...(opts.signal && { signal: opts.signal }) }));
        opts.log.info({ runId, removed: d.removed, waitedFor: d.waitedFor }, `run ${runId} dropped: ${d.removed} job(s) removed from Redis${d.waitedFor.length ? `, after units ${d.waitedFor.join(', ')} stopped on their workers` : ''}`);
      } catch (dropErr) {
        opts.log.warn({ err: dropErr, runId }, `run ${runId} could not be removed from Redis whole (${(dropErr as Error).message}): sluice cancel --run-id ${runId} removes what is left`);
      }
      throw err;
    };
    // Shared storage: the driver sees every input's size, for the display's share read and ETA.
    const sizes = opts.onProgress ? files.map((f) => sizeOf(f)) : [];
    for (;;) {
      // Said at every poll: `sluice status` tells a run no driver follows (killed: it goes on, re-attachable).
      await redisCall(driverAlive(q, runId, DRIVER_NAME));
      if (opts.signal?.aborted) throw fail(`the driver was stopped (${String(opts.signal.reason)}); the run goes on in Redis: start the driver again with --run-id ${runId} to follow it, or sluice cancel`);
      const commit = await redisCall(Job.fromId<CommitJobData, CommitResult>(q, commitJobId(runId)));
      if (!commit) throw fail('its commit job is gone from Redis (cancelled?); nothing was committed');
      const state = await redisCall(commit.getState());
      const states = await redisCall(unitStates(q, runId, files.length));
      for (const [u, s] of states.entries()) {
        if (s.state !== 'completed' || seen.has(u) || !s.result) continue;
        seen.add(u);
        opts.onUnit?.(unitReport(s.result, s.attempts), seen.size, files.length);
      }
      opts.onProgress?.(clusterProgress(states, sizes, performance.now() - t0));
      if (state === 'completed') {
        // Read again: the job read above may predate its completion (no return value yet).
        const done = await redisCall(Job.fromId<CommitJobData, CommitResult>(q, commitJobId(runId)));
        const result = done!.returnvalue;
        const units = states.map((s, u) => (s.result ? unitReport(s.result, s.attempts) : { unit: u, file: files[u], rows: 0, worker: '?', attempts: s.attempts, ms: 0 }));
        return {
          pipeline: plan.name,
          runId,
          ok: true,
          cluster: target.kind === 'local' ? `local:${target.workers}` : label,
          ...(existing && doneBefore?.length === files.length && states.every((s) => s.state === 'completed') && existing.finishedOn && { alreadyCommitted: true }),
          ...(doneBefore && { reattached: { doneBefore } }),
          startedAt,
          durationMs: Math.round(performance.now() - t0),
          units,
          workers: workersOf(units),
          rows: states.reduce((n, s) => n + (s.result?.rows ?? 0), 0),
          sinks: result.sinks,
          ...(result.rejected && { rejected: result.rejected }),
          commit: { worker: result.worker, ms: result.ms, attempts: done!.attemptsStarted },
        };
      }
      // A unit failed for good (past its attempts, or a data error): the run has failed, whatever the commit job's state says
      // yet (BullMQ fails it only once a worker takes it). The first unit that failed is the cause; the others may be units dropped since.
      const bad = failedUnitToBlame(states);
      if (bad) {
        await dropAndThrow(new ClusterError(`run ${runId}: unit ${bad.u} (${describeUnit(units[bad.u])}) failed after ${bad.attempts} attempt(s): ${bad.reason}; nothing was committed, the previous output is untouched`, { runId, unit: bad.u, file: files[bad.u] }));
      }
      if (state === 'failed') await dropAndThrow(fail(await commitFailure(commit, () => redisCall(Job.fromId<CommitJobData, CommitResult>(q, commitJobId(runId))))));
      await redisCall(sleep(POLL_MS));
    }
  } finally {
    // No driver follows the run from now on (a stopped driver's run goes on; `sluice status` says so at once).
    if (following) await Promise.race([driverGone(following, runId).catch(() => undefined), sleep(1000)]);
    await Promise.allSettled([queue?.close(), flows?.close()]);
    await local?.stop();
    // After the workers stopped (local) so none writes there any more; a driver that only lost an external Redis keeps it for a re-attach.
    if (over || local) removeStaging(plan.sinks.map((s) => path.resolve(s.config.path)), runId);
  }
}

/**
 * Why the commit job failed, from the job read again: the one read before its state may predate
 * the failure (BullMQ records the reason and the state in one step, but the driver reads the job
 * and then its state), which said "failed after 0 attempt(s): undefined".
 */
export async function commitFailure(seen: FailedJobFields, readAgain: () => Promise<FailedJobFields | undefined>): Promise<string> {
  const job = (await readAgain()) ?? seen;
  return `the commit failed after ${job.attemptsStarted} attempt(s): ${job.failedReason ?? 'no reason recorded'}`;
}

interface FailedJobFields {
  attemptsStarted: number;
  failedReason?: string;
}

/**
 * The unit a failed run is blamed on: the first that failed for good. A unit its worker dropped
 * because the run had already failed is never the cause, whenever it finished.
 */
export function failedUnitToBlame(states: readonly UnitState[]): (UnitState & { u: number }) | undefined {
  const dropped = (s: UnitState) => /^worker \S+ dropped /.test(s.reason ?? '');
  return states
    .map((s, u) => ({ ...s, u }))
    .filter((s) => s.state === 'failed')
    .sort((a, b) => Number(dropped(a)) - Number(dropped(b)) || (a.finishedOn ?? Infinity) - (b.finishedOn ?? Infinity))[0];
}

export interface UnitState extends UnitView {
  reason?: string;
  /** When it failed or completed (ms since the epoch). */
  finishedOn?: number;
}

/** This driver, as `sluice status` names the one following a run. */
const DRIVER_NAME = `${hostname()}:${process.pid}`;

async function unitStates(q: Queue, runId: string, n: number): Promise<UnitState[]> {
  const jobs = await Promise.all(Array.from({ length: n }, (_, u) => Job.fromId<UnitJobData, UnitResult>(q, unitJobId(runId, u))));
  return Promise.all(
    jobs.map(async (job) => {
      if (!job) return { state: 'missing', attempts: 0 };
      const state = await job.getState();
      // The job's fields were read before its state: a job that failed in between reads 'failed'
      // with no reason or time yet (CI blamed such a unit, "failed …: undefined"). Read it again.
      const read = state === 'failed' && job.finishedOn === undefined ? ((await Job.fromId<UnitJobData, UnitResult>(q, job.id!)) ?? job) : job;
      return { state, attempts: read.attemptsStarted, ...(state === 'active' && { progress: job.progress }), ...(state === 'completed' && { result: job.returnvalue }), ...(state === 'failed' && { reason: read.failedReason, finishedOn: read.finishedOn }) };
    }),
  );
}

function unitReport(r: UnitResult, attempts: number): UnitReport {
  const { unit, file, groups, rows, worker, ms, startedAt, startupMs, cpuMs, warm } = r;
  return { unit, file, ...(groups && { groups }), rows, worker, attempts, ms, ...(startedAt !== undefined && { startedAt, startupMs, cpuMs, warm }) };
}

/** Per worker, from the units it ran (their last attempts), in the order of its name. */
export function workersOf(units: readonly UnitReport[]): WorkerReport[] {
  const by = new Map<string, WorkerReport>();
  for (const u of units) {
    if (u.worker === '?') continue;
    const w = by.get(u.worker) ?? by.set(u.worker, { worker: u.worker, units: 0, rows: 0, busyMs: 0, startupMs: 0, cpuMs: 0, warmUnits: 0 }).get(u.worker)!;
    w.units++;
    w.rows += u.rows;
    w.busyMs += u.ms;
    w.startupMs += Math.round(u.startupMs ?? 0);
    w.cpuMs += u.cpuMs ?? 0;
    if (u.warm) w.warmUnits++;
  }
  return [...by.values()].sort((a, b) => a.worker.localeCompare(b.worker));
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // the unit's own run names a file that cannot be read
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
