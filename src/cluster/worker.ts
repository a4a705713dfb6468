/**
 * `sluice worker --cluster <url>`: takes the unit and commit jobs of every cluster run on that
 * Redis (the `sluice` queue) and runs them here (unit.ts, commit.ts). BullMQ holds a lock per
 * job while it runs, renewed every lockDuration/2; a worker that dies stops renewing it, and
 * once it expires another worker's stalled-job check puts the job back in the queue, so the
 * unit runs again elsewhere. A data error (a value that does not parse, a config a worker
 * refuses) fails the unit at once, without retries: it would fail the same way again.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ClusterError, ConfigError, ConfigLoadError, SourceError } from '../errors';
import { connectionFault, redisOptions } from './connection';
import { QUEUE, type CommitJobData, type CommitResult, type UnitJobData, type UnitProgress, type UnitResult } from './jobs';
import { commitRun } from './commit';
import { DroppedUnit, WORKER_NAME, runUnit } from './unit';
import { runOver } from './run-state';
import { refuseDiedTooOften } from './attempts';
import { WarmCopies } from '../runtime/warm-copies';

/** How often a running unit tells Redis its progress (one small write per unit per interval). */
export const UNIT_PROGRESS_MS = 1000;

export interface WorkerOptions {
  url: string;
  concurrency: number;
  /** ms a job's lock lasts without renewal: how long a dead worker's unit waits before it runs elsewhere. */
  lockDurationMs: number;
  log: Logger;
  /** Resolves when the worker should stop (a signal; the driver of `local:N` going away). */
  stop: Promise<unknown>;
  /** Keep a run's copies warm across its units (runtime/warm-copies.ts); false starts every unit cold (to measure what warm saves). Default true. */
  warm?: boolean;
}

export async function runWorker(opts: WorkerOptions): Promise<void> {
  const { label, ...connection } = redisOptions(opts.url);
  const log = opts.log.child({ worker: WORKER_NAME });
  const warm = opts.warm === false ? undefined : new WarmCopies();
  let fatal = false;
  const worker: Worker<UnitJobData | CommitJobData, UnitResult | CommitResult> = new Worker<UnitJobData | CommitJobData, UnitResult | CommitResult>(
    QUEUE,
    async (job: Job<UnitJobData | CommitJobData>, token?: string): Promise<UnitResult | CommitResult> => {
      try {
        // A job of a run that is over (failed, cancelled, gone) is refused as it is taken: nothing runs, nothing is written.
        const over = (): Promise<string | undefined> => runOver(worker, job.data.runId);
        const why = job.name === 'unit' || job.name === 'commit' ? await over() : undefined;
        if (why !== undefined) throw new DroppedUnit(`worker ${WORKER_NAME} dropped ${job.name === 'unit' ? `unit ${(job.data as UnitJobData).unit} (${(job.data as UnitJobData).file})` : `the ${job.name} job`} of run ${job.data.runId} as it took it: ${why}; nothing of it is kept`, { runId: job.data.runId });
        const died = refuseDiedTooOften(job);
        if (died > 0) log.warn({ job: job.id, died }, `job ${job.id} runs again: the worker running it died ${died} time(s)`);
        // Asked once the unit is staged: an attempt that lost its lock removes what it staged (unit.ts).
        const held = async () => token !== undefined && (await job.extendLock(token, opts.lockDurationMs).catch(() => 0)) === 1;
        if (job.name === 'unit') {
          const data = job.data as UnitJobData;
          return await runUnit(data, job.attemptsStarted, log, {
            ...(warm && { warm }),
            progressIntervalMs: UNIT_PROGRESS_MS,
            held,
            over,
            // Best effort: a progress write that fails (Redis away a moment) must not fail the unit; the result is what counts.
            onProgress: (s) => void job.updateProgress({ rows: s.source.rows, bytesRead: s.input?.bytesRead ?? 0, totalBytes: s.input?.totalBytes ?? 0, worker: WORKER_NAME } satisfies UnitProgress as unknown as object).catch(() => undefined),
          });
        }
        if (job.name === 'commit') {
          const commitJob = job as Job<CommitJobData>;
          // Every unit of the run is done: its warm copies here have no more work.
          await warm?.end(commitJob.data.runId);
          return await commitRun(
            {
              data: commitJob.data,
              progress: commitJob.progress,
              childrenValues: () => commitJob.getChildrenValues<UnitResult>(),
              recordProgress: (value) => commitJob.updateProgress(value as unknown as object),
              held,
              over,
            },
            log,
          );
        }
        throw new UnrecoverableError(`unknown job "${job.name}" (id ${job.id}) on queue ${QUEUE}: a newer sluice put it there?`);
      } catch (err) {
        if (err instanceof DroppedUnit) {
          // Not a failure of this worker or of the unit: the run it belongs to ended. Said once, not retried.
          log.warn({ job: job.id, runId: job.data.runId }, err.message);
          // Its other units will not come either: the run's idle warm copies here go now.
          await warm?.end(job.data.runId);
          throw new UnrecoverableError(err.message);
        }
        log.error({ job: job.id, err }, `job ${job.id} failed: ${(err as Error).message}`);
        // Retrying what fails the same way every time only delays the run's failure.
        if (err instanceof SourceError || err instanceof ConfigError || err instanceof ConfigLoadError || err instanceof ClusterError) throw new UnrecoverableError((err as Error).message);
        throw err;
      }
    },
    {
      // BullMQ's own back-off (a worker waits for its Redis to come back), ended once a fault is known (below).
      connection: { ...connection, maxRetriesPerRequest: null, retryStrategy: (times: number) => (fatal ? null : Math.max(Math.min(Math.exp(times), 20000), 1000)) },
      concurrency: opts.concurrency,
      lockDuration: opts.lockDurationMs,
      // Checked as often as a lock lasts: a dead worker's job is back in the queue within about two lock durations.
      stalledInterval: opts.lockDurationMs,
      maxStalledCount: 2,
      autorun: false,
    },
  );
  // Said once per cause, not on every reconnection attempt (a worker waits for its Redis to come back).
  let said = '';
  // A certificate that does not verify or a password refused: the worker stops (exit 1) instead of retrying for ever.
  let fault: ((err: Error) => void) | undefined;
  const faulted = new Promise<never>((_, reject) => (fault = reject));
  faulted.catch(() => undefined);
  worker.on('error', (err) => {
    const f = connectionFault(err, label);
    if (f) fault?.(f);
    else if (err.message !== said) log.warn({ err }, `redis ${label}: ${err.message}`);
    said = err.message;
  });
  // Nothing waits in the queue: no unit of any run is coming, so idle warm copies go now rather than after their idle time.
  worker.on('drained', () => void warm?.endIdle());
  log.info({ redis: label, concurrency: opts.concurrency }, 'worker started');
  const running = worker.run();
  try {
    await Promise.race([opts.stop, running, faulted]);
  } catch (err) {
    // No more reconnections: the clients end, so waiting for them and closing do not hang. Their
    // last errors, which BullMQ emits on its connections after close, are expected now.
    fatal = true;
    const quiet = () => undefined;
    const inner = worker as unknown as { connection?: EventEmitter; blockingConnection?: EventEmitter };
    for (const c of [inner.connection, inner.blockingConnection]) c?.on('error', quiet);
    await worker.waitUntilReady().catch(quiet);
    await worker.close(true).catch(quiet);
    throw err instanceof ClusterError ? err : (connectionFault(err, label) ?? err);
  }
  await worker.close();
  await running;
  await warm?.stop();
}
