/**
 * Where a run's staged files are written (staging.ts): on a thread of their own. The main
 * thread opens each file (so a file that cannot be made fails where it is asked for, as before)
 * and posts each append's chunks; the staging thread copies them into its aligned buffers and
 * writes them (staged-file.ts), and answers once the chunks' memory may be reused.
 *
 * Why a thread: the main thread runs the pipeline (inline stages, the scheduler, the transport
 * to process stages). Copying every staged byte there (242 MB for the nightly job's 2 M rows),
 * and taking every write's completion there before a buffer could be filled again, cost the
 * nightly job 2.3 % of its wall time (issue 26, 25 alternating rounds with unit commits: units
 * +7.9 % over none on the main thread, +4.9 % here; bench/results/2026-12-07T23-00-staging-thread.md). The
 * staged bytes the runs send are shared memory already (stage copies' slabs: batch/slab.ts), so
 * posting them copies nothing; chunks in ordinary memory (a batch an inline stage made, the
 * frames' small headers) are copied once into a reused slab first.
 *
 * `SLUICE_STAGING_THREAD=0` writes on the main thread instead (staged-file.ts directly).
 * A staging thread that dies fails every file it held (the unit being written: a resumed run
 * redoes it); it is not replaced within the run, as the Parquet encoder's threads are not.
 */
import path from 'node:path';
import { SLAB_HEADER, SlabArena, isShared, release } from '../../batch/slab';
import { deserializeError } from '../../errors';
import { ThreadCopy } from '../../supervisor/thread';
import type { CopyExit } from '../../supervisor/types';
import { createStagedFile, openStagedFile, type StagedFile } from './staged-file';
import type { StagingReply, StagingRequest } from '../../protocol/staging';

const ENTRY = path.join(__dirname, 'staging-worker.cjs');

/** What opens a run's staged files, and ends whatever it started once the run's staging is done. */
export interface StagedWriter {
  open(file: string, direct: boolean | 'probe'): StagedFile;
  /** After every file it opened is closed: the thread ends (a later open starts another). */
  close(): Promise<void>;
}

/** The staging thread, or the main thread with SLUICE_STAGING_THREAD=0. */
export function stagedWriter(): StagedWriter {
  if (process.env.SLUICE_STAGING_THREAD === '0') return { open: createStagedFile, close: async () => undefined };
  return new StagingThread();
}

/** A request that is answered, before its number is given. */
type Asked = { type: 'append'; id: number; chunks: Uint8Array[] } | { type: 'flush' | 'sync' | 'close'; id: number };

/** One started thread, and what it owes. Files opened on it live and die with it. */
interface Lane {
  copy: ThreadCopy<StagingRequest, StagingReply>;
  pending: Map<number, { resolve: () => void; reject: (err: Error) => void; slab?: SharedArrayBuffer }>;
  dead?: Error;
}

export class StagingThread implements StagedWriter {
  private lane: Lane | undefined;
  private seq = 0;
  private files = 0;
  /** Slabs for chunks in ordinary memory (reused: fresh memory costs ~10× a warm copy). */
  private readonly arena = new SlabArena(4);
  /** Bytes posted as they were (shared memory) and bytes copied on this thread first (ordinary memory). */
  readonly stats = { shared: 0, copied: 0, threads: 0 };

  open(file: string, direct: boolean | 'probe'): StagedFile {
    const opened = openStagedFile(file, direct);
    const lane = this.live();
    const id = ++this.files;
    lane.copy.send({ type: 'open', id, fd: opened.fd, direct: opened.direct });
    return {
      direct: opened.direct,
      append: (chunks) => this.append(lane, id, chunks),
      flush: () => this.ask(lane, { type: 'flush', id }),
      sync: () => this.ask(lane, { type: 'sync', id }),
      close: () => this.ask(lane, { type: 'close', id }),
    };
  }

  async close(): Promise<void> {
    const lane = this.lane;
    this.lane = undefined;
    if (lane && !lane.dead) await lane.copy.close();
  }

  /** The thread in use (a new one if there is none, or it died: files opened from now on go to it). */
  private live(): Lane {
    if (this.lane && !this.lane.dead) return this.lane;
    const copy = new ThreadCopy<StagingRequest, StagingReply>({ entry: ENTRY, closeMessage: { type: 'exit' }, closeGraceMs: 5_000, refWhileOwed: true, trackUnmanagedFds: false });
    const lane: Lane = { copy, pending: new Map() };
    copy.onMessage((reply) => this.settle(lane, reply));
    copy.onDeath((exit) => this.died(lane, exit));
    void copy.start(); // synchronous underneath: the thread takes messages from here on
    this.stats.threads++;
    return (this.lane = lane);
  }

  private append(lane: Lane, id: number, chunks: Uint8Array[]): Promise<void> {
    let own = 0;
    let all = 0;
    for (const c of chunks) {
      all += c.byteLength;
      if (!isShared(c.buffer)) own += c.byteLength;
    }
    this.stats.shared += all - own;
    this.stats.copied += own;
    if (own === 0) return this.ask(lane, { type: 'append', id, chunks });
    // Posting a view of ordinary memory would copy its whole buffer into the message: one warm copy into a slab instead.
    const slab = this.arena.acquire(own);
    let at = SLAB_HEADER;
    const posted = chunks.map((c) => {
      if (isShared(c.buffer)) return c;
      const view = new Uint8Array(slab, at, c.byteLength);
      view.set(c);
      at += c.byteLength;
      return view;
    });
    return this.ask(lane, { type: 'append', id, chunks: posted }, slab);
  }

  private ask(lane: Lane, request: Asked, slab?: SharedArrayBuffer): Promise<void> {
    if (lane.dead) {
      if (slab) release(slab);
      return Promise.reject(lane.dead);
    }
    const seq = ++this.seq;
    return new Promise<void>((resolve, reject) => {
      lane.pending.set(seq, { resolve, reject, slab });
      lane.copy.expectReply(String(seq));
      lane.copy.send({ ...request, seq });
    });
  }

  private settle(lane: Lane, reply: StagingReply): void {
    const p = lane.pending.get(reply.seq);
    if (!p) return;
    lane.pending.delete(reply.seq);
    lane.copy.replied(String(reply.seq));
    if (p.slab) release(p.slab);
    if (reply.error) p.reject(deserializeError(reply.error));
    else p.resolve();
  }

  /**
   * Every file of the thread fails with its death. Their descriptors are left open: a write the
   * thread had started on libuv's pool may still land, and a number closed now could by then be
   * another file's. The run is failing; the process ends soon.
   */
  private died(lane: Lane, exit: CopyExit): void {
    const why = exit.error !== undefined ? `failed: ${exit.error instanceof Error ? exit.error.message : String(exit.error)}` : `ended (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`})`;
    lane.dead = Object.assign(new Error(`the staging thread ${why}`), exit.error instanceof Error ? { cause: exit.error } : {});
    for (const [seq, p] of lane.pending) {
      lane.copy.replied(String(seq));
      if (p.slab) release(p.slab);
      p.reject(lane.dead);
    }
    lane.pending.clear();
  }
}
