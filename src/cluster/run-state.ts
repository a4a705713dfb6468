/**
 * Whether a cluster run is still going on, as every machine sees it in Redis. A unit job alone
 * does not say: BullMQ leaves a failed run's other units queued (failParentOnFailure fails the
 * parent, not its siblings), and a cancelled run's unit in a worker's hands keeps its lock. So a
 * worker asks here before it runs a unit, while it runs it and before it records it, and drops
 * the unit of a run that is over: one whose driver or `sluice cancel` marked it ended (the mark
 * says why), whose commit job failed or has a failure pending (a unit failed for good), or whose
 * commit job is gone. The driver also keeps a short-lived key while it follows a run, so
 * `sluice status` can say when no driver does (killed: the run goes on, re-attachable).
 */
import type { MinimalQueue } from 'bullmq';
import { commitJobId } from './jobs';

/** How long the mark of an ended run stays (long after any worker could still hold one of its units). */
const OVER_TTL_S = 7 * 24 * 3600;
/** A driver renews its key at every poll (every 200 ms); gone this long after it stopped renewing it. */
export const DRIVER_TTL_MS = 5000;

const overKey = (runId: string) => `sluice:run-over:${runId}`;
const driverKey = (runId: string) => `sluice:run-driver:${runId}`;

/** Marks the run ended, with why (what a worker that drops one of its units says). */
export async function markOver(q: MinimalQueue, runId: string, why: string): Promise<void> {
  await (await q.client).set(overKey(runId), why, { EX: OVER_TTL_S });
}

/** A new run with this id (a fresh flow) is not the ended one: its mark goes. */
export async function clearOver(q: MinimalQueue, runId: string): Promise<void> {
  await (await q.client).del(overKey(runId));
}

/**
 * Why the run's units must not run any more, or undefined while it goes on. Plain reads (asked
 * about every second per running unit): the commit job's fields, not its data, which lists every
 * unit's file.
 */
export async function runOver(q: MinimalQueue, runId: string): Promise<string | undefined> {
  const id = commitJobId(runId);
  const client = await q.client;
  // Sent together on one connection: one round trip.
  const [mark, [name, deferred, reason], failed] = await Promise.all([client.get(overKey(runId)), client.hmget(q.toKey(id), 'name', 'defa', 'failedReason'), client.zscore(q.toKey('failed'), id)]);
  if (mark !== null) return mark;
  if (name === null) return 'the run is gone from Redis (cancelled, or removed after it failed)';
  // A unit failed for good: BullMQ has put the failure on the commit job, which fails once a worker takes it.
  if (deferred) return `the run failed (${deferred.replace(/^child \S*:(\S+) failed$/, 'its unit job $1 failed')})`;
  if (failed !== null) return `the run failed (${reason ?? 'its commit job failed'})`;
  return undefined;
}

/** The driver follows the run (renewed at every poll; expires when the driver is killed). */
export async function driverAlive(q: MinimalQueue, runId: string, who: string): Promise<void> {
  await (await q.client).set(driverKey(runId), who, { PX: DRIVER_TTL_MS });
}

export async function driverGone(q: MinimalQueue, runId: string): Promise<void> {
  await (await q.client).del(driverKey(runId));
}

/** The driver following the run (host:pid), or null when none does. */
export async function driverOf(q: MinimalQueue, runId: string): Promise<string | null> {
  return (await q.client).get(driverKey(runId));
}
