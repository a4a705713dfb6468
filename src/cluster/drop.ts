/**
 * What a failed or cancelled cluster run leaves behind: nothing. Its driver (a unit failed for
 * good, the commit failed) and `sluice cancel` drop it here, in an order that lets no worker
 * run or write for it afterwards:
 * 1. the run is marked ended (run-state.ts), so a worker that takes one of its units refuses it,
 *    and one running one drops it at its next check (about a second, or the end of the batch in
 *    hand) and removes its attempt directory;
 * 2. the commit job goes (without its children: one a worker holds cannot be removed, and
 *    removing children one by one would hand the parent to a worker once the last is gone);
 * 3. every unit job goes: waiting and delayed ones at once; one a worker holds (its lock is
 *    alive: that worker is still in the unit) is waited for until that worker has dropped it;
 *    one whose lock expired (its worker died or is paused) goes at once: a paused worker that
 *    comes back finds the run ended and removes what it staged;
 * 4. then, once no attempt can write there any more, the run's staging beside every target.
 */
import { Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import { commitJobId, unitJobId, type UnitProgress } from './jobs';
import { markOver } from './run-state';
import { removeStaging } from './commit';

export interface DropOptions {
  runId: string;
  /** Units of the run (ids `<runId>-u0` …). */
  units: number;
  /** The run's sink targets (absolute): their staging of this run goes last. */
  targets: string[];
  /** Why (said by every worker that drops one of the run's units). */
  why: string;
  log: Logger;
  /** Stops the wait for units still in a worker's hands (a second Ctrl-C): the staging is removed anyway, best effort. */
  signal?: AbortSignal;
  pollMs?: number;
}

export interface Dropped {
  /** Jobs removed (the commit job included). */
  removed: number;
  /** Units that were in a worker's hands when the run was dropped (waited for). */
  waitedFor: number[];
  /** The run had committed (its commit job was publishing when it was cancelled): its output stays, its commit job too. */
  committed?: true;
}

export async function dropRun(q: Queue, opts: DropOptions): Promise<Dropped> {
  const { runId, log } = opts;
  const committed = async () => (await (await Job.fromId(q, commitJobId(runId)))?.getState()) === 'completed';
  if (await committed()) return { removed: 0, waitedFor: [], committed: true };
  await markOver(q, runId, opts.why);
  let removed = 0;
  // A commit job a worker holds now is publishing (its check for a run that is over came before the mark) or failing: asked again below.
  if (!(await committed()) && (await removeUnlessHeld(q, commitJobId(runId), opts)) === 'removed') removed++;
  const waitedFor = new Set<number>();
  let pending = Array.from({ length: opts.units }, (_, u) => u);
  for (;;) {
    const held: number[] = [];
    for (const u of pending) {
      const id = unitJobId(runId, u);
      const r = await removeUnlessHeld(q, id, opts);
      if (r === 'removed') removed++;
      else if (r === 'held') held.push(u);
    }
    // The commit job once more: a worker may have taken it (a unit's failure pending on it) while the units went.
    if (held.length === 0 && (await Job.fromId(q, commitJobId(runId)))) {
      // It published before it saw the mark: the run is committed, its output and staging are the commit's (nothing to remove).
      if (await committed()) return { removed, waitedFor: [...waitedFor].sort((a, b) => a - b), committed: true };
      const r = await removeUnlessHeld(q, commitJobId(runId), opts);
      if (r === 'removed') removed++;
      else if (r === 'held') held.push(-1);
    }
    if (held.length === 0) break;
    for (const u of held) {
      if (u < 0 || waitedFor.has(u)) continue;
      waitedFor.add(u);
      const progress = (await Job.fromId(q, unitJobId(runId, u)))?.progress as Partial<UnitProgress> | undefined;
      log.warn({ runId, unit: u }, `run ${runId} is over: waiting for unit ${u}${progress?.worker ? ` on ${progress.worker}` : ''} to stop (its worker drops it at its next batch and removes what it staged) before the run's staging is removed`);
    }
    if (opts.signal?.aborted) {
      log.warn({ runId }, `run ${runId}: stopped waiting for its units still running (${held.filter((u) => u >= 0).join(', ')}); their workers remove what they staged when they drop them`);
      break;
    }
    pending = held.filter((u) => u >= 0);
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 200));
  }
  try {
    removeStaging(opts.targets, runId);
  } catch (err) {
    log.warn({ err, runId }, `run ${runId}: its staging could not be removed whole: ${(err as Error).message}`);
  }
  return { removed, waitedFor: [...waitedFor].sort((a, b) => a - b) };
}

/**
 * Removes the job unless a worker holds it (its lock is alive). A job whose lock expired is
 * removed even if it is still listed as active: BullMQ's removal only refuses a locked job, and
 * the worker that held it (dead, or paused) keeps nothing it wrote (unit.ts).
 */
async function removeUnlessHeld(q: Queue, id: string, opts: DropOptions): Promise<'removed' | 'gone' | 'held'> {
  const job = await Job.fromId(q, id);
  if (!job) return 'gone';
  try {
    await job.remove({ removeChildren: false });
    return 'removed';
  } catch (err) {
    // Locked: a worker is in it. Anything else (a job gone meanwhile) is checked again at the next round.
    if (!(await Job.fromId(q, id))) return 'gone';
    opts.log.debug({ err, job: id }, `job ${id} is held by a worker: not removed yet`);
    return 'held';
  }
}
