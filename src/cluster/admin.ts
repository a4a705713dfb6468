/**
 * `sluice status` and `sluice cancel`: what Redis holds of cluster runs. Status reads the
 * jobs (a run's commit job and its units: states, attempts, why one failed); cancel removes a
 * run's jobs that no worker holds (waiting units, the commit job) and its staging, so its
 * driver stops with "cancelled" and nothing is committed. A unit a worker is running finishes
 * (its lock cannot be taken from it), but its result has no commit job to go to any more.
 */
import path from 'node:path';
import { Job, Queue } from 'bullmq';
import { ClusterError } from '../errors';
import { connectionFault, redisOptions } from './connection';
import { QUEUE, commitJobId, unitJobId, type CommitJobData, type CommitResult, type UnitJobData, type UnitResult } from './jobs';
import { removeStaging } from './commit';
import { clusterPlan } from './plan';

export interface RunStatus {
  runId: string;
  state: string;
  units: { unit: number; file: string; state: string; attempts: number; worker?: string; reason?: string }[];
  committed?: CommitResult;
  failedReason?: string;
}

async function withQueue<T>(url: string, work: (q: Queue) => Promise<T>): Promise<T> {
  const { label, ...connection } = redisOptions(url);
  let fatal = false;
  const q = new Queue(QUEUE, { connection: { ...connection, retryStrategy: (times: number) => (fatal || times > 20 ? null : 250), maxRetriesPerRequest: 3 } });
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
    return { runId, state, units, ...(state === 'completed' && { committed: commit.returnvalue }), ...(state === 'failed' && { failedReason: commit.failedReason }) };
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

export function cancelRun(url: string, runId: string): Promise<{ removed: number; running: number }> {
  return withQueue(url, async (q) => {
    const commit = await Job.fromId<CommitJobData>(q, commitJobId(runId));
    if (!commit) throw new ClusterError(`no run ${runId} in this Redis: nothing to cancel`, { runId });
    if ((await commit.getState()) === 'completed') throw new ClusterError(`run ${runId} is committed already: its output is published, there is nothing to cancel`, { runId });
    let removed = 0;
    let running = 0;
    for (let unit = 0; unit < commit.data.files.length; unit++) {
      const job = await Job.fromId(q, unitJobId(runId, unit));
      if (!job) continue;
      if ((await job.getState()) === 'active') running++;
      else if (await job.remove().then(() => true, () => false)) removed++;
    }
    // The commit job last: a driver following it sees it gone and stops, nothing committed.
    await commit.remove({ removeChildren: false });
    const { plan } = await clusterPlan(commit.data.config, commit.data.overrides).catch(() => ({ plan: undefined }));
    if (plan) removeStaging(plan.sinks.map((s) => path.resolve(s.config.path)), runId);
    return { removed: removed + 1, running };
  });
}
