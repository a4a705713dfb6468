/**
 * `sluice run --cluster …`: the driver. It plans the run (the config as every worker will see
 * it), cuts it into units (one per input file), resolves the source's column types once, and
 * adds one BullMQ flow: a commit job whose children are the units, each with
 * failParentOnFailure. Then it follows the flow until the commit job has committed (the only
 * success) or failed, and reports per unit: rows, worker, attempts. A driver that dies can be
 * started again with the same --run-id: it re-attaches to the flow already in Redis, and the
 * units already done stay done; a committed run is not run again.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { FlowProducer, Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { ClusterError } from '../errors';
import { fixSourceTypes, type FixedSourceTypes } from '../io/sources';
import { planFingerprint } from '../runtime/run';
import { connectionFault, parseClusterTarget, redisOptions } from './connection';
import { QUEUE, commitJobId, unitJobId, type ClusterOverrides, type CommitJobData, type CommitResult, type UnitJobData, type UnitResult } from './jobs';
import { LocalCluster } from './local';
import { clusterPlan } from './plan';
import { removeStaging } from './commit';

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
  rows: number;
  worker: string;
  /** Times a worker started it (more than 1: retried, or run again after its worker died). */
  attempts: number;
  ms: number;
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
  durationMs: number;
  units: UnitReport[];
  rows: number;
  sinks: CommitResult['sinks'];
  commit?: { worker: string; ms: number; attempts: number };
  error?: string;
}

const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const POLL_MS = 200;

export async function runCluster(opts: DriverOptions): Promise<ClusterReport> {
  const t0 = performance.now();
  const target = parseClusterTarget(opts.cluster);
  if (opts.runId !== undefined && !RUN_ID.test(opts.runId)) throw new ClusterError(`--run-id "${opts.runId}": use 1 to 64 letters, digits, - or _ (it names the run's jobs and output files)`);
  const runId = opts.runId ?? `${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
  const { plan, files } = await clusterPlan(opts.config, opts.overrides);
  if (files.length === 0) throw new ClusterError(`the source ${String(plan.source.path)} matched no file: nothing to run`, { runId });
  const fingerprint = planFingerprint(plan);
  const spec = { runId, config: plan.configFile, overrides: opts.overrides, fingerprint };
  let local: LocalCluster | undefined;
  let queue: Queue | undefined;
  let flows: FlowProducer | undefined;
  /** The run cannot go on (a unit or the commit failed for good; a local cluster's Redis is gone with its jobs): its staging goes. */
  let over = false;
  try {
    if (target.kind === 'local') {
      local = await LocalCluster.start({
        workers: target.workers,
        workerArgs: ['--lock-duration', `${opts.lockDurationMs}ms`, '--concurrency', String(opts.workerConcurrency ?? 1), '--log-level', opts.log.level === 'silent' ? 'silent' : 'warn'],
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
            data: { ...spec, unit, file, ...(fixedTypes && { fixedTypes }) } satisfies UnitJobData,
            opts: { ...unitOpts, jobId: unitJobId(runId, unit) },
          })),
        }),
      );
      opts.log.info({ runId, units: files.length, redis: label }, 'cluster run started');
    }
    opts.onStarted?.({ runId, url, workerPids: local?.workerPids ?? [], ...(local?.redisPid !== undefined && { redisPid: local.redisPid }) });

    const seen = new Set<number>(doneBefore ?? []);
    for (;;) {
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
      if (state === 'completed') {
        // Read again: the job read above may predate its completion (no return value yet).
        const done = await redisCall(Job.fromId<CommitJobData, CommitResult>(q, commitJobId(runId)));
        const result = done!.returnvalue;
        return {
          pipeline: plan.name,
          runId,
          ok: true,
          cluster: target.kind === 'local' ? `local:${target.workers}` : label,
          ...(existing && doneBefore?.length === files.length && states.every((s) => s.state === 'completed') && existing.finishedOn && { alreadyCommitted: true }),
          ...(doneBefore && { reattached: { doneBefore } }),
          durationMs: Math.round(performance.now() - t0),
          units: states.map((s, u) => (s.result ? unitReport(s.result, s.attempts) : { unit: u, file: files[u], rows: 0, worker: '?', attempts: s.attempts, ms: 0 })),
          rows: states.reduce((n, s) => n + (s.result?.rows ?? 0), 0),
          sinks: result.sinks,
          commit: { worker: result.worker, ms: result.ms, attempts: done!.attemptsStarted },
        };
      }
      if (state === 'failed') {
        const bad = states.findIndex((s) => s.state === 'failed');
        if (bad >= 0) {
          const s = states[bad];
          over = true;
          throw new ClusterError(`run ${runId}: unit ${bad} (${files[bad]}) failed after ${s.attempts} attempt(s): ${s.reason}; nothing was committed, the previous output is untouched`, { runId, unit: bad, file: files[bad] });
        }
        over = true;
        throw fail(`the commit failed after ${commit.attemptsStarted} attempt(s): ${commit.failedReason}`);
      }
      await redisCall(sleep(POLL_MS));
    }
  } finally {
    await Promise.allSettled([queue?.close(), flows?.close()]);
    await local?.stop();
    // After the workers stopped (local) so none writes there any more; a driver that only lost an external Redis keeps it for a re-attach.
    if (over || local) removeStaging(plan.sinks.map((s) => path.resolve(s.config.path)), runId);
  }
}

interface UnitState {
  state: string;
  attempts: number;
  result?: UnitResult;
  reason?: string;
}

async function unitStates(q: Queue, runId: string, n: number): Promise<UnitState[]> {
  const jobs = await Promise.all(Array.from({ length: n }, (_, u) => Job.fromId<UnitJobData, UnitResult>(q, unitJobId(runId, u))));
  return Promise.all(
    jobs.map(async (job) => {
      if (!job) return { state: 'missing', attempts: 0 };
      const state = await job.getState();
      return { state, attempts: job.attemptsStarted, ...(state === 'completed' && { result: job.returnvalue }), ...(state === 'failed' && { reason: job.failedReason }) };
    }),
  );
}

function unitReport(r: UnitResult, attempts: number): UnitReport {
  return { unit: r.unit, file: r.file, rows: r.rows, worker: r.worker, attempts, ms: r.ms };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
