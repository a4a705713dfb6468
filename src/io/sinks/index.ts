/**
 * Sinks: batches to Parquet / CSV / NDJSON / Arrow, atomically. Everything is written
 * under a hidden temporary sibling and renamed into place on commit (plus `_SUCCESS` in
 * directory outputs); abort removes the temporary and leaves the previous output as it was.
 * One run writes a target at a time (lock.ts); every failure names the target (failures.ts).
 */
import { EncoderPool } from '../parquet/encoder/pool';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { Backing } from '../../batch/owned';
import type { Logger } from 'pino';
import type { SinkConfig } from '../../config/types';
import { MAX_OPEN_FILES, SINK_MODE } from '../../defaults';
import { SinkError } from '../../errors';
import { outputPathProblem } from '../../inputs';
import { commitRename, fsyncPath, fsyncTree, removeQuietly, tempSibling } from './atomic';
import { osCode, sinkFailure } from './failures';
import { SinkLock } from './lock';
import { CreatedParents } from './parents';
import { recoverSiblings } from './siblings';
import { pauseForTest } from './test-pause';
import { PartitionRouter } from './partition';
import { createWriter, type FormatWriter } from './writers';

export interface SinkResult {
  path: string;
  files: string[];
  rows: number;
  batches: number;
  bytes: number;
}

export interface Sink {
  /**
   * When the promise resolves the sink no longer reads `batch`'s memory. `backing`: where the
   * batch lies as IPC bytes (an OwnedBatch's), read in place by a writer that can.
   */
  write(batch: RecordBatch, meta?: { seq: number; sourceFile?: string; backing?: Backing }): Promise<void>;
  /**
   * Make the output visible. `beforeRename` runs once everything is written and synced, just
   * before the rename that publishes it, with the rows the writers wrote: a throw there commits
   * nothing (the run failed meanwhile, or the count is not what was handed to the sink). It is
   * told the rename to come too: once `temp` is gone (renamed to `target`), the output is
   * committed, which a death watch can check after a kill.
   */
  commit(beforeRename?: (written: Publish) => void): Promise<SinkResult>;
  /** Remove every temporary file; never throws. */
  abort(): Promise<void>;
}

/** What a commit is about to publish: `temp` is renamed to `target`. */
export interface Publish {
  rows: number;
  temp: string;
  target: string;
}

export interface OpenSinkOptions {
  log?: Logger;
  /** Named in the lock file, so a second run on the same path can say whose run holds it. */
  pipeline?: string;
  /**
   * Parquet: the batches are row groups already encoded by the run's encoding stage
   * (operators/parquet-encode.ts); the sink appends them in the order they come, each to its
   * partition's file when partitioned (tagged by the partitioning stage, operators/partition.ts).
   */
  parts?: boolean;
}

/**
 * Open the sink: lock the target (one writer per path), clean up what dead runs left beside
 * it, check the mode against what exists, and start writing into a temporary sibling.
 */
export async function openSink(cfg: SinkConfig, opts: OpenSinkOptions = {}): Promise<Sink> {
  const target = path.resolve(cfg.path);
  const mode = cfg.mode ?? SINK_MODE;
  const problem = outputPathProblem(target);
  if (problem) throw new SinkError(`cannot open ${target}: ${problem}`);
  let lock: SinkLock;
  let parents: CreatedParents | undefined;
  try {
    parents = CreatedParents.make(path.dirname(target));
    lock = SinkLock.acquire(target, opts.pipeline ?? 'unnamed', opts.log);
  } catch (err) {
    parents?.removeEmpty();
    throw sinkFailure(err, 'open', target);
  }
  try {
    await recoverSiblings(target, opts.log);
    const exists = existsSync(target);
    if (mode === 'error-if-exists' && exists) {
      throw new SinkError(`${target} already exists and sink.mode is "error-if-exists" (use "overwrite" to replace it or "append" to add to it)`);
    }
    if (exists && !cfg.partitionBy && statSync(target).isDirectory()) {
      throw new SinkError(`${target} is a directory; a sink without partitionBy writes one file`);
    }
    const append = mode === 'append' && exists;
    if (append && !cfg.partitionBy && (cfg.format === 'parquet' || cfg.format === 'arrow')) {
      throw new SinkError(`sink.mode "append" cannot add to an existing ${cfg.format} file (${target}): its footer would have to be rewritten; write a partitioned directory (partitionBy) or use "overwrite"`);
    }
    const guard = new CommitGuard(target, mode, append, lock, parents);
    const sink = cfg.partitionBy ? new DirectorySink(cfg, guard, opts.parts ?? false) : new FileSink(cfg, guard, opts.parts ?? false);
    opts.log?.debug({ target, mode, temp: sink.temp, lock: lock.file }, 'sink opened');
    return sink;
  } catch (err) {
    lock.release();
    parents.removeEmpty();
    throw sinkFailure(err, 'open', target);
  }
}

/**
 * What a commit must still hold, checked under the lock at the last moment: "error-if-exists"
 * (and "append" to a file that did not exist) never replaces a target that appeared during
 * the run; "append" finds the target as it copied it.
 */
class CommitGuard {
  private readonly seen: string | undefined;
  constructor(
    readonly target: string,
    readonly mode: string,
    readonly append: boolean,
    readonly lock: SinkLock,
    /** The folders above the target this run created: removed again if it fails. */
    readonly parents: CreatedParents,
  ) {
    this.seen = append ? identity(target) : undefined;
  }

  async commit(temp: string): Promise<void> {
    if (this.append && identity(this.target) !== this.seen) {
      throw new SinkError(`${this.target} changed during this run (written by something other than this run); nothing was appended and this run's output was discarded`);
    }
    try {
      await commitRename(temp, this.target, { replace: this.mode === 'overwrite' || this.append });
      pauseForTest('after-commit');
    } catch (err) {
      if (osCode(err) !== 'EEXIST') throw err;
      throw new SinkError(`${this.target} was created by something else during this run and sink.mode is "${this.mode}": it was left as it is and this run's output was discarded`);
    }
  }
}

function identity(file: string): string | undefined {
  const st = statSync(file, { throwIfNoEntry: false });
  return st && `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** The encoder threads of a sink that encodes Parquet itself: started on first use, ended with the sink. */
class SinkPool {
  private pool: EncoderPool | undefined;
  readonly get = (): EncoderPool => (this.pool ??= new EncoderPool());
  async destroy(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }
}

class FileSink implements Sink {
  readonly temp: string;
  private readonly writer: FormatWriter;
  private readonly pool = new SinkPool();
  private batches = 0;
  private done = false;

  constructor(
    cfg: SinkConfig,
    private readonly guard: CommitGuard,
    parts: boolean,
  ) {
    const target = guard.target;
    this.temp = tempSibling(target);
    try {
      // Appending works on a copy, so a failed run still leaves the original untouched.
      if (guard.append) copyFileSync(target, this.temp);
      this.writer = createWriter(cfg.format, this.temp, { compression: cfg.compression, rowGroupSize: cfg.rowGroupSize, append: guard.append, shownAs: target, parts, encoderPool: this.pool.get });
    } catch (err) {
      rmSync(this.temp, { force: true });
      void this.pool.destroy();
      throw sinkFailure(err, 'write', target, this.temp);
    }
  }

  async write(batch: RecordBatch, meta?: { backing?: Backing }): Promise<void> {
    try {
      await this.writer.write(batch, meta?.backing);
    } catch (err) {
      throw sinkFailure(err, 'write', this.guard.target, this.temp);
    }
    this.batches++;
  }

  async commit(beforeRename?: (written: Publish) => void): Promise<SinkResult> {
    const target = this.guard.target;
    let bytes: number;
    try {
      try {
        await this.writer.close();
      } finally {
        await this.pool.destroy();
      }
      if (!existsSync(this.temp)) writeFileSync(this.temp, '');
      await fsyncPath(this.temp);
      bytes = statSync(this.temp).size;
    } catch (err) {
      throw sinkFailure(err, 'commit', target, this.temp);
    }
    beforeRename?.({ rows: this.writer.rows, temp: this.temp, target });
    try {
      await this.guard.commit(this.temp);
    } catch (err) {
      throw sinkFailure(err, 'commit', target, this.temp);
    }
    this.done = true;
    this.guard.lock.release();
    return { path: target, files: [target], rows: this.writer.rows, batches: this.batches, bytes };
  }

  async abort(): Promise<void> {
    if (!this.done) {
      await this.writer.abort();
      await this.pool.destroy();
      await removeQuietly(this.temp);
    }
    this.guard.lock.release();
    if (!this.done) this.guard.parents.removeEmpty();
  }
}

class DirectorySink implements Sink {
  readonly temp: string;
  private readonly router: PartitionRouter;
  private readonly pool = new SinkPool();
  private batches = 0;
  private done = false;

  constructor(
    cfg: SinkConfig,
    private readonly guard: CommitGuard,
    parts: boolean,
  ) {
    this.temp = tempSibling(guard.target);
    try {
      mkdirSync(this.temp, { recursive: true });
      // Appending: hard-link the existing files into the new tree, then swap the whole tree.
      if (guard.append) linkTree(guard.target, this.temp);
    } catch (err) {
      rmSync(this.temp, { recursive: true, force: true });
      throw sinkFailure(err, 'write', guard.target, this.temp);
    }
    const runId = randomBytes(4).toString('hex');
    this.router = new PartitionRouter(this.temp, cfg.partitionBy!, cfg.format, { compression: cfg.compression, rowGroupSize: cfg.rowGroupSize, parts, encoderPool: this.pool.get }, cfg.maxOpenFiles ?? MAX_OPEN_FILES, runId);
  }

  async write(batch: RecordBatch): Promise<void> {
    try {
      await this.router.write(batch);
    } catch (err) {
      throw sinkFailure(err, 'write', this.guard.target, this.temp);
    }
    this.batches++;
  }

  async commit(beforeRename?: (written: Publish) => void): Promise<SinkResult> {
    const target = this.guard.target;
    let files: string[];
    let bytes: number;
    try {
      try {
        await this.router.close();
      } finally {
        await this.pool.destroy();
      }
      writeFileSync(path.join(this.temp, '_SUCCESS'), '');
      await fsyncTree(this.temp);
      files = this.router.files.map((f) => path.join(target, path.relative(this.temp, f)));
      bytes = this.router.files.reduce((n, f) => n + statSync(f).size, 0);
    } catch (err) {
      throw sinkFailure(err, 'commit', target, this.temp);
    }
    beforeRename?.({ rows: this.router.rows, temp: this.temp, target });
    try {
      await this.guard.commit(this.temp);
    } catch (err) {
      throw sinkFailure(err, 'commit', target, this.temp);
    }
    this.done = true;
    this.guard.lock.release();
    return { path: target, files, rows: this.router.rows, batches: this.batches, bytes };
  }

  async abort(): Promise<void> {
    if (!this.done) {
      await this.router.abort();
      await this.pool.destroy();
      await removeQuietly(this.temp);
    }
    this.guard.lock.release();
    if (!this.done) this.guard.parents.removeEmpty();
  }
}

function linkTree(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.name === '_SUCCESS') continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) {
      mkdirSync(dst, { recursive: true });
      linkTree(src, dst);
    } else linkSync(src, dst);
  }
}
