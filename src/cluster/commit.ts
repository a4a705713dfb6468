/**
 * The commit job of a cluster run: every unit's recorded files (the results BullMQ kept for
 * the attempts that held their job's lock) replayed in unit order into the real sinks, which
 * write and commit them as one uninterrupted run would (single-file Parquet: the footer
 * merge; partitioned: a file per partition; several sinks: committed together, io/sinks),
 * then the run's staging is removed. Idempotent: a retried commit job whose first attempt
 * published finds that in its progress (kept in Redis right after the publish) and only
 * removes the staging; one that died before it publishes again from the same staged files.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { commitTogether, openSinks, type Sink } from '../io/sinks';
import { replayUnits } from '../io/units/replay';
import { stagingDirOf } from '../io/units/units';
import { planFingerprint, runPlan } from '../runtime/run';
import type { Plan } from '../plan/types';
import { ClusterError, SinkError } from '../errors';
import type { CommitJobData, CommitResult, UnitResult } from './jobs';
import { DroppedUnit, WORKER_NAME, planOf, refuseOtherPipeline } from './unit';

export interface CommitJobHandle {
  data: CommitJobData;
  /** What an earlier attempt of this job recorded (its progress). */
  progress: unknown;
  childrenValues(): Promise<Record<string, UnitResult>>;
  recordProgress(value: CommitResult): Promise<void>;
  /** Whether this attempt still holds the job's lock: one that lost it (paused past the lock time) publishes nothing. */
  held?(): Promise<boolean>;
  /** Why the run is over (cancelled while its commit job waited or ran: run-state.ts): asked before publishing; a run that is over publishes nothing. */
  over?(): Promise<string | undefined>;
}

async function refuseIfOver(job: CommitJobHandle): Promise<void> {
  const why = await job.over?.();
  if (why !== undefined) throw new DroppedUnit(`worker ${WORKER_NAME} dropped the commit job of run ${job.data.runId} before publishing: ${why}; nothing was published`, { runId: job.data.runId });
}

export async function commitRun(job: CommitJobHandle, log: Logger): Promise<CommitResult> {
  const t0 = performance.now();
  const data = job.data;
  const { plan } = await planOf(data);
  const targets = plan.sinks.map((s) => path.resolve(s.config.path));
  const done = job.progress as CommitResult | undefined;
  if (done && typeof done === 'object' && done.committed) {
    log.info({ runId: data.runId }, 'the commit was published by an earlier attempt: removing the staging');
    removeStaging(targets, data.runId);
    return done;
  }
  refuseOtherPipeline(data, planFingerprint(plan));
  const byUnit = new Map<number, UnitResult>();
  for (const r of Object.values(await job.childrenValues())) byUnit.set(r.unit, r);
  const units = data.files.map((file, u) => {
    const r = byUnit.get(u);
    if (!r) throw new ClusterError(`run ${data.runId}: unit ${u} (${file}) has no recorded result; nothing was committed`, { runId: data.runId, unit: u, file });
    return r;
  });
  // The engine's job commit replays the dead-letter output's staged rows too, and checks maxErrors over every unit's rejects.
  if (units.some((u) => u.cut !== undefined) || plan.deadLetter) return commitWithTail(job, plan, units, targets, t0, log);
  const sinks: Sink[] = await openSinks(plan.sinks.map((s) => s.config), {
    log,
    pipeline: plan.name,
    parts: plan.sinks.map((s) => s.from >= 0 && plan.stages[s.from].encode !== undefined),
    runId: data.runId,
  });
  let published = false;
  try {
    for (const [k, sink] of sinks.entries()) {
      for (const batch of replayUnits(units.map((u) => u.sinks[k]?.file ?? null))) await sink.write(batch);
    }
    // Another worker may be running this commit now (it took the job when the lock expired): the first committer wins.
    await refuseIfOver(job);
    if (job.held && !(await job.held())) throw new ClusterError(`run ${data.runId}: worker ${WORKER_NAME} lost the lock of the commit job before publishing (paused or too busy past the lock duration); this attempt published nothing, the attempt holding the lock commits`, { runId: data.runId });
    const results = await commitTogether(sinks, (written) => {
      written.forEach(({ rows }, k) => {
        const staged = units.reduce((n, u) => n + (u.sinks[k]?.rows ?? 0), 0);
        if (rows !== staged) throw new SinkError(`the sink wrote ${rows} rows to ${plan.sinks[k].config.path} but its units staged ${staged}; nothing was committed (a bug in sluice: please report it with the run's log)`);
      });
    });
    published = true;
    const result: CommitResult = {
      committed: true,
      sinks: results.map((r, k) => ({ name: plan.sinks[k].name, path: plan.sinks[k].config.path, rows: r.rows, files: r.files })),
      worker: WORKER_NAME,
      ms: Math.round(performance.now() - t0),
    };
    // Kept in Redis before the staging goes: a retry after this point does not publish again.
    await job.recordProgress(result);
    removeStaging(targets, data.runId);
    return result;
  } catch (err) {
    if (!published) for (const sink of [...sinks].reverse()) await sink.abort().catch(() => undefined);
    throw err;
  }
}

/**
 * A plan cut before its first stateful stage (runtime/unit-cut.ts), or with a deadLetter output
 * (the units staged their rejected rows, and what they rejected and read): the units staged the head's
 * sinks and the cut; the engine's job commit (runtime/run.ts, as a resumable run's) replays the
 * head sinks, runs the stateful stages and what follows them over every unit's cut in unit
 * order, and commits every sink together. Then, as above: progress recorded, staging removed.
 */
async function commitWithTail(job: CommitJobHandle, plan: Plan, units: UnitResult[], targets: string[], t0: number, log: Logger): Promise<CommitResult> {
  const { runId } = job.data;
  await refuseIfOver(job);
  if (job.held && !(await job.held())) throw new ClusterError(`run ${runId}: worker ${WORKER_NAME} lost the lock of the commit job before publishing (paused or too busy past the lock duration); this attempt published nothing, the attempt holding the lock commits`, { runId });
  const report = await runPlan(plan, { log, commitUnits: { runId, units: units.map((u) => ({ file: u.file, sinks: u.sinks, cut: u.cut ?? null, dead: u.dead ?? null, ...(u.rejects && { rejects: u.rejects }) })) } });
  const result: CommitResult = {
    committed: true,
    sinks: [
      ...(report.sinks ?? [report.sink]).map((s, k) => ({ name: plan.sinks[k].name, path: plan.sinks[k].config.path, rows: s.rows, files: s.files })),
      ...(plan.deadLetter && report.rejected?.deadLetter ? [{ name: 'deadLetter', path: plan.deadLetter.path, rows: report.rejected.deadLetter.rows, files: report.rejected.deadLetter.files }] : []),
    ],
    ...(report.rejected && { rejected: { rows: report.rejected.rows, counts: report.rejected.counts } }),
    worker: WORKER_NAME,
    ms: Math.round(performance.now() - t0),
  };
  await job.recordProgress(result);
  removeStaging(targets, runId);
  return result;
}

/** The run's staging beside every target, and the staging folder itself once no other run has one there. */
export function removeStaging(targets: string[], runId: string): void {
  for (const t of targets) {
    const parent = stagingDirOf(t);
    rmSync(path.join(parent, runId), { recursive: true, force: true });
    if (existsSync(parent) && readdirSync(parent).length === 0) rmSync(parent, { recursive: true, force: true });
  }
}
