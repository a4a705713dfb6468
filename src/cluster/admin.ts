/**
 * `sluice status` and `sluice cancel`: what Redis holds of cluster runs. Status reads the
 * jobs (a run's commit job and its units: states, attempts, why one failed); cancel removes a
 * run (drop.ts): its jobs, once the units workers hold are dropped by them, and its staging, so
 * its driver stops with "cancelled" and nothing is committed.
 */
import path from 'node:path';
import { Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { ClusterError } from '../errors';
import { connectionFault, redisOptions } from './connection';
import { QUEUE, commitJobId, unitJobId, type CommitJobData, type CommitResult, type UnitJobData, type UnitResult } from './jobs';
import { clusterPlan } from './plan';
import { dropRun } from './drop';
import { driverOf } from './run-state';

export interface RunStatus {
  runId: string;
  state: string;
  units: { unit: number; file: string; state: string; attempts: number; worker?: string; reason?: string }[];
  committed?: CommitResult;
  failedReason?: string;
  /** The driver following the run (host:pid), or null: none does (it was killed or stopped; the run goes on without it). */
  driver: string | null;
}

async function withQueue<T>(url: string, work: (q: Queue) => Promise<T>): Promise<T> {
  const { label, ...connection } = redisOptions(url);
  let fatal = false;
  // disconnectTimeout: ioredis ends a socket and destroys it if it is still open that much later;
  // a refused connection (wrong password) was closed by ioredis already, so that socket never says
  // "close" again and the timer (2 s by default) held the process: a jest worker running this
  // was force-exited. Here the work is done when we disconnect, nothing is left to flush.
  const q = new Queue(QUEUE, { connection: { ...connection, retryStrategy: (times: number) => (fatal || times > 20 ? null : 250), maxRetriesPerRequest: 3, disconnectTimeout: 100 } });
  let lost: Error | undefined;
  let fault: ((err: Error) => void) | undefined;
  const faulted = new Promise<never>((_, reject) => (fault = reject));
  faulted.catch(() => undefined);
  q.on('error', (err) => {
    lost ??= err;
    const f = connectionFault(err, label);
    if (f) {
      fatal = true;
      fault?.(f);
    }
  });
  try {
    return await Promise.race([work(q), faulted]);
  } catch (err) {
    if (err instanceof ClusterError) throw err;
    throw new ClusterError(`cannot read the cluster runs in Redis at ${label}: ${(err as Error).message}${lost && lost !== err ? ` (${lost.message})` : ''}`, {}, err);
  } finally {
    // A connection that never got ready says so once more when it gives up: waited for here, while
    // the queue still listens, or it would come after close as an "unhandled" error.
    fatal = true;
    await q.waitUntilReady().catch(() => undefined);
    await q.close().catch(() => undefined);
    // A connection that never authenticated may still be retrying: ended too, so nothing keeps the process alive.
    await q.disconnect().catch(() => undefined);
  }
}

export function runStatus(url: string, runId: string): Promise<RunStatus> {
  return withQueue(url, async (q) => {
    const commit = await Job.fromId<CommitJobData, CommitResult>(q, commitJobId(runId));
    if (!commit) throw new ClusterError(`no run ${runId} in this Redis (its jobs are gone: never started, cancelled, or removed)`, { runId });
    const state = await commit.getState();
    const units = await Promise.all(
      commit.data.files.map(async (file, unit) => {
        const job = await Job.fromId<UnitJobData, UnitResult>(q, unitJobId(runId, unit));
        if (!job) return { unit, file, state: 'removed', attempts: 0 };
        const s = await job.getState();
        return { unit, file, state: s, attempts: job.attemptsStarted, ...(s === 'completed' && { worker: job.returnvalue.worker }), ...(s === 'failed' && { reason: job.failedReason }) };
      }),
    );
    const driver = await driverOf(q, runId);
    return { runId, state, units, driver, ...(state === 'completed' && { committed: commit.returnvalue }), ...(state === 'failed' && { failedReason: commit.failedReason }) };
  });
}

/** The runs this Redis knows (their commit jobs), newest first. */
export function listRuns(url: string): Promise<{ runId: string; state: string; units: number; pipeline: string }[]> {
  return withQueue(url, async (q) => {
    const jobs = (await q.getJobs(['waiting-children', 'waiting', 'active', 'completed', 'failed', 'delayed'], 0, 200)).filter((j) => j?.name === 'commit') as Job<CommitJobData>[];
    const rows = await Promise.all(jobs.map(async (j) => ({ runId: j.data.runId, state: await j.getState(), units: j.data.files.length, pipeline: path.basename(j.data.config), at: j.timestamp })));
    return rows.sort((a, b) => b.at - a.at).map(({ at: _at, ...r }) => r);
  });
}

/**
 * Cancels a run as a failed run's driver drops it (drop.ts): marked ended, its commit job and
 * waiting units removed at once, the units workers are running waited for until those workers
 * have dropped them (at their next batch: they remove what they staged), then its staging.
 */
export function cancelRun(url: string, runId: string, log: Logger): Promise<{ removed: number; waitedFor: number[] }> {
  return withQueue(url, async (q) => {
    const commit = await Job.fromId<CommitJobData>(q, commitJobId(runId));
    if (!commit) throw new ClusterError(`no run ${runId} in this Redis: nothing to cancel`, { runId });
    if ((await commit.getState()) === 'completed') throw new ClusterError(`run ${runId} is committed already: its output is published, there is nothing to cancel`, { runId });
    const { plan } = await clusterPlan(commit.data.config, commit.data.overrides).catch(() => ({ plan: undefined }));
    const targets = plan ? plan.sinks.map((s) => path.resolve(s.config.path)) : [];
    if (!plan) log.warn({ runId }, `run ${runId}: its config ${commit.data.config} cannot be read here, so its staging (beside its outputs) is not removed: remove the .*.sluice-staging/${runId} folders by hand`);
    const dropped = await dropRun(q, { runId, units: commit.data.files.length, targets, why: 'the run was cancelled (sluice cancel)', log });
    if (dropped.committed) throw new ClusterError(`run ${runId} committed before it could be cancelled (its commit job was publishing): its output is published`, { runId });
    return dropped;
  });
}
