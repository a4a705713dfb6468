/**
 * The source on its own thread: reading, CSV scanning and parsing, and the polars → Arrow
 * conversion run beside the main thread, which is left to schedule and run inline stages.
 * Batches arrive in shared-memory slabs (a `thread` stage downstream references them, 0
 * bytes copied) with a lease the consumer releases when done, which lets the source thread
 * reuse the slab.
 *
 * Read-ahead is bounded: the thread holds credit for `readAhead` batches and gets one more
 * for each batch taken, so at most `readAhead` batches wait here, parsed, whatever the input.
 * A thread that dies ends the run with an error naming it and the batch it was reading
 * (supervisor/death.ts, as any copy's death); never a hang. It is not replaced
 * (SOURCE_NOT_REPLACED says why).
 */
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { OwnedBatch } from '../../batch/owned';
import { backingOf, fromShared, leaseOf } from '../../batch/shared';
import { deserializeError } from '../../errors';
import { SOURCE_READ_AHEAD } from '../../defaults';
import { forwardLogLine } from '../../log';
import { ThreadCopy } from '../../supervisor/thread';
import { deathError } from '../../supervisor/death';
import type { SplitOut } from '../../protocol/key-split';
import type { SourceReply, SourceRequest, SourceThreadData } from '../../protocol/source';
import { resolveInputs, type BadRow, type FixedSourceTypes, type Source, type SourceBatch, type SourceOptions, type SourceStats } from './index';
import { fileOfUnitKey } from '../../batch/unit-tag';

const ENTRY = path.join(__dirname, 'thread-entry.cjs');

/**
 * Why the source thread is not replaced when it dies, whatever `retries` says: it is sluice's
 * own code, so its death is a sluice bug or the machine running out of memory (which a new
 * thread would meet again at the same place), and a new one could resume only by reading the
 * file again from its start and skipping the batches already delivered (a CSV cannot be
 * entered mid-file: a quoted newline makes a byte offset unsafe), which `--resume` of a
 * resumable run does at unit boundaries already.
 */
export const SOURCE_NOT_REPLACED = "sluice's own thread, not replaced (a sluice bug, or out of memory)";
/** How long a closing thread may take to close its file before it is terminated. */
const CLOSE_GRACE_MS = 5_000;

export interface ThreadSource extends Source {
  /** Batches waiting here now, parsed and not yet taken; and the most that ever did (≤ readAhead). */
  readonly waitingNow: number;
  readonly peakWaiting: number;
  /** The thread has posted its last batch. */
  readonly ended: boolean;
  /** Slabs the source thread allocated (the rest of its batches reused released ones). */
  readonly slabAllocations: number;
  /** For tests: the thread itself. */
  readonly worker: Worker;
}

/** `splitOut`: cut each batch by key, in the thread, for the keyed stage that is the source's only reader (plan/key-split.ts). */
/** `onFixedTypes`: as openSource's (told on this thread, before the first file's first batch arrives). */
export async function openThreadSource(cfg: SourceOptions, opts: { log?: Logger; readSize?: number; readAhead?: number; splitOut?: SplitOut; onBadRow?: (bad: BadRow) => void; onFixedTypes?: (types: FixedSourceTypes) => void } = {}): Promise<ThreadSource> {
  const files = cfg.only ?? resolveInputs(cfg.path, cfg.baseDir); // fail here, before a thread starts, when nothing matches
  const readAhead = opts.readAhead ?? SOURCE_READ_AHEAD; // the plan passes its own (plan.source.readAhead)
  const log = opts.log;
  const workerData: SourceThreadData = { cfg, readSize: opts.readSize, logLevel: log?.level ?? 'silent', ...(opts.splitOut && { splitOut: opts.splitOut }), ...(opts.onBadRow && { salvage: true }), ...(opts.onFixedTypes && { tellTypes: true }) };
  const thread = new ThreadCopy<SourceRequest, SourceReply>({ entry: ENTRY, workerData, closeMessage: { type: 'close' }, closeGraceMs: CLOSE_GRACE_MS });
  await thread.start();
  const worker = thread.worker;

  const stats: SourceStats = { files: files.length, rows: 0, batches: 0, bytesRead: 0 };
  const waiting: SourceBatch[] = [];
  let peakWaiting = 0;
  let slabAllocations = 0;
  let ended = false;
  let failure: Error | undefined;
  let closed: Promise<void> | undefined;
  let lastFile: string | undefined;
  let wake: (() => void) | undefined;
  const send = (m: SourceRequest) => thread.send(m);
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (err: Error) => {
    failure ??= err;
    notify();
  };

  thread.onMessage((m) => {
    switch (m.type) {
      case 'batch': {
        lastFile = m.file;
        stats.bytesRead = m.bytesRead;
        slabAllocations = m.slabAllocations;
        // The descriptor's slabs were retained in the thread for us: this value holds them.
        const split = m.split && opts.splitOut && { ...opts.splitOut, ...m.split };
        waiting.push(new OwnedBatch({ seq: stats.batches + waiting.length, sourceFile: m.file, batches: fromShared(m.shared), lease: leaseOf(m.shared.slabs), backing: backingOf(m.shared), ...(split && { split }) }));
        peakWaiting = Math.max(peakWaiting, waiting.length);
        break;
      }
      case 'end':
        ended = true;
        stats.bytesRead = m.bytesRead;
        slabAllocations = m.slabAllocations;
        break;
      case 'failed':
        fail(deserializeError(m.error));
        break;
      case 'log':
        if (log) forwardLogLine(log, m.line);
        return;
      case 'bad-row':
        // Told (and counted against the budget) before the batch it was cut from arrives.
        try {
          opts.onBadRow?.(m.row);
        } catch (err) {
          fail(err as Error);
        }
        return;
      case 'types':
        try {
          opts.onFixedTypes?.(JSON.parse(m.json) as FixedSourceTypes);
        } catch (err) {
          fail(err as Error);
        }
        return;
      case 'closed':
        return;
    }
    notify();
  });
  thread.onDeath((exit) => {
    // Named as any copy's death: the batch it was reading is the next one it would have sent.
    const where = { stage: 'source', seq: stats.batches + waiting.length, ...(lastFile !== undefined && { sourceFile: fileOfUnitKey(lastFile) }) };
    if (exit.error !== undefined || !closed) fail(deathError(exit, where, 'process', { copyName: 'the source thread', unreplaceable: SOURCE_NOT_REPLACED }));
  });
  // The thread keeps the process alive only while someone waits for it (below), so a
  // caller that forgets close() still exits. After the listeners: adding one refs again.
  worker.unref();
  // Waits overlap (the consumer waits for a batch while close() waits for the thread), so
  // the thread is ref'd while ANY wait is pending: a toggle would unref it under the other
  // wait, and Node would then exit (code 0) in the middle of a failing run's clean-up.
  let waits = 0;
  const waitFor = async (p: Promise<void>) => {
    if (waits++ === 0) worker.ref();
    try {
      await p;
    } finally {
      if (--waits === 0) worker.unref();
    }
  };
  send({ type: 'pull', batches: readAhead });

  async function* batches(): AsyncGenerator<SourceBatch> {
    try {
      for (;;) {
        if (failure) throw failure;
        const next = waiting.shift();
        if (next) {
          send({ type: 'pull', batches: 1 });
          stats.rows += next.rows;
          stats.batches++;
          yield next;
          continue;
        }
        if (ended || closed) return;
        await waitFor(new Promise<void>((resolve) => (wake = resolve)));
      }
    } finally {
      // Read to the end, failed, or abandoned: the thread has nothing more to do.
      await close();
    }
  }

  function close(): Promise<void> {
    closed ??= (async () => {
      for (const b of waiting.splice(0)) b.release();
      // Asks it to close its file, waits for `closed` (or its exit, or the grace time), then ends it.
      const said = new Promise<void>((resolve) => thread.onMessage((m) => m.type === 'closed' && resolve()));
      await waitFor(thread.close(said));
      notify();
    })();
    return closed;
  }

  return {
    files,
    batches,
    close,
    stats: () => ({ ...stats }),
    get waitingNow() {
      return waiting.length;
    },
    get peakWaiting() {
      return peakWaiting;
    },
    get ended() {
      return ended;
    },
    get slabAllocations() {
      return slabAllocations;
    },
    worker,
  };
}
