/**
 * The two kinds of sink: one file (FileSink) and a partitioned directory (DirectorySink).
 * Both write under a hidden temporary sibling of the target and commit in two steps, prepare
 * (close, sync, check) and publish (rename into place: atomic.ts), so that several sinks can
 * prepare all before any publishes (commit-set.ts).
 */
import { EncoderPool } from '../parquet/encoder/pool';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { Backing } from '../../batch/owned';
import type { SinkConfig } from '../../config/types';
import { MAX_OPEN_FILES } from '../../defaults';
import { SinkError } from '../../errors';
import { describePublication, fsyncPath, fsyncTree, publish, removeQuietly, tempSibling, type Publication } from './atomic';
import { osCode, sinkFailure } from './failures';
import type { SinkLock } from './lock';
import type { CreatedParents } from './parents';
import { PartitionRouter } from './partition';
import { stopAt } from './stop-at';
import type { Prepared, Publish, Sink, SinkResult } from './types';
import { createWriter, type FormatWriter } from './writers';

/**
 * What a commit must still hold, checked under the lock at the last moment: "error-if-exists"
 * (and "append" to a file that did not exist) never replaces a target that appeared during
 * the run; "append" finds the target as it copied it.
 */
export class CommitGuard {
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

  /** Whether publishing may replace what is at the target. */
  get replace(): boolean {
    return this.mode === 'overwrite' || this.append;
  }

  /** At the end of prepare: what would make the publication fail, said before anything is renamed. */
  check(): void {
    if (this.append && identity(this.target) !== this.seen) {
      throw new SinkError(`${this.target} changed during this run (written by something other than this run); nothing was appended and this run's output was discarded`);
    }
    if (!this.replace && existsSync(this.target)) throw this.appeared();
  }

  async publish(p: Publication): Promise<void> {
    try {
      await publish(p);
      stopAt('after-commit');
    } catch (err) {
      if (osCode(err) !== 'EEXIST') throw err;
      throw this.appeared();
    }
  }

  private appeared(): SinkError {
    return new SinkError(`${this.target} was created by something else during this run and sink.mode is "${this.mode}": it was left as it is and this run's output was discarded`);
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

/** The commit steps both kinds share; a kind says how to close its writers and how to drop them. */
abstract class TwoStepSink implements Sink {
  protected readonly pool = new SinkPool();
  protected batches = 0;
  private state: 'open' | 'prepared' | 'published' | 'kept' | 'aborted' = 'open';
  private ready: { publication: Publication; files: string[]; bytes: number } | undefined;

  constructor(
    protected readonly guard: CommitGuard,
    readonly temp: string,
  ) {}

  abstract write(batch: RecordBatch, meta?: { backing?: Backing }): Promise<void>;
  /** Rows the writers wrote (final once closed). */
  protected abstract get rows(): number;
  /** Close every writer and sync the temporary: the files it holds and their bytes. */
  protected abstract close(): Promise<{ files: string[]; bytes: number }>;
  protected abstract dropWriters(): Promise<void>;

  async prepare(): Promise<Prepared> {
    const target = this.guard.target;
    if (this.state !== 'open') throw new SinkError(`the sink of ${target} was asked to prepare its output twice, or after it was ${this.state} (a bug in sluice)`);
    try {
      const { files, bytes } = await this.close();
      this.guard.check();
      this.ready = { publication: describePublication(this.temp, target, this.guard.replace), files, bytes };
    } catch (err) {
      throw sinkFailure(err, 'commit', target, this.temp);
    }
    this.state = 'prepared';
    return { rows: this.rows, publication: this.ready.publication };
  }

  async publish(opts: { holdLock?: boolean } = {}): Promise<SinkResult> {
    const target = this.guard.target;
    if (this.state !== 'prepared' || !this.ready) throw new SinkError(`the sink of ${target} was asked to publish an output it had not prepared (a bug in sluice)`);
    try {
      await this.guard.publish(this.ready.publication);
    } catch (err) {
      throw sinkFailure(err, 'commit', target, this.temp);
    }
    this.state = 'published';
    if (!opts.holdLock) this.guard.lock.release();
    return { path: target, files: this.ready.files, rows: this.rows, batches: this.batches, bytes: this.ready.bytes };
  }

  async commit(beforeRename?: (written: Publish) => void): Promise<SinkResult> {
    const { rows, publication } = await this.prepare();
    beforeRename?.({ rows, temp: publication.temp, target: publication.target });
    return this.publish();
  }

  release(): void {
    this.guard.lock.release();
  }

  keep(): void {
    if (this.state === 'prepared') this.state = 'kept';
    this.guard.lock.release();
  }

  async abort(): Promise<void> {
    const drop = this.state === 'open' || this.state === 'prepared';
    if (drop) {
      this.state = 'aborted';
      await this.dropWriters();
      await this.pool.destroy();
      await removeQuietly(this.temp);
    }
    this.guard.lock.release();
    // After the lock, which lies in the folder above the target.
    if (drop) this.guard.parents.removeEmpty();
  }
}

export class FileSink extends TwoStepSink {
  private readonly writer: FormatWriter;

  constructor(cfg: SinkConfig, guard: CommitGuard, parts: boolean) {
    super(guard, tempSibling(guard.target));
    const target = guard.target;
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

  protected get rows(): number {
    return this.writer.rows;
  }

  protected async close(): Promise<{ files: string[]; bytes: number }> {
    try {
      await this.writer.close();
    } finally {
      await this.pool.destroy();
    }
    if (!existsSync(this.temp)) writeFileSync(this.temp, '');
    await fsyncPath(this.temp);
    return { files: [this.guard.target], bytes: statSync(this.temp).size };
  }

  protected dropWriters(): Promise<void> {
    return this.writer.abort();
  }
}

export class DirectorySink extends TwoStepSink {
  private readonly router: PartitionRouter;

  constructor(cfg: SinkConfig, guard: CommitGuard, parts: boolean, runId = randomBytes(4).toString('hex')) {
    super(guard, tempSibling(guard.target));
    try {
      mkdirSync(this.temp, { recursive: true });
      // Appending: hard-link the existing files into the new tree, then swap the whole tree.
      if (guard.append) linkTree(guard.target, this.temp);
    } catch (err) {
      rmSync(this.temp, { recursive: true, force: true });
      throw sinkFailure(err, 'write', guard.target, this.temp);
    }
    this.router = new PartitionRouter(this.temp, cfg.partitionBy ?? [], cfg.format, { compression: cfg.compression, rowGroupSize: cfg.rowGroupSize, parts, encoderPool: this.pool.get }, cfg.maxOpenFiles ?? MAX_OPEN_FILES, runId);
  }

  /**
   * Put a small file of the run's own at the root of the new tree (an incremental run's state),
   * published with the parts. An "append" tree holds hard links to the published files: the
   * link is removed first, so the published one is never written through.
   */
  async addFile(name: string, text: string): Promise<void> {
    const file = path.join(this.temp, name);
    try {
      rmSync(file, { force: true });
      writeFileSync(file, text);
    } catch (err) {
      throw sinkFailure(err, 'write', this.guard.target, this.temp);
    }
  }

  async write(batch: RecordBatch): Promise<void> {
    try {
      await this.router.write(batch);
    } catch (err) {
      throw sinkFailure(err, 'write', this.guard.target, this.temp);
    }
    this.batches++;
  }

  protected get rows(): number {
    return this.router.rows;
  }

  protected async close(): Promise<{ files: string[]; bytes: number }> {
    try {
      await this.router.close();
    } finally {
      await this.pool.destroy();
    }
    writeFileSync(path.join(this.temp, '_SUCCESS'), '');
    await fsyncTree(this.temp);
    const files = this.router.files.map((f) => path.join(this.guard.target, path.relative(this.temp, f)));
    return { files, bytes: this.router.files.reduce((n, f) => n + statSync(f).size, 0) };
  }

  protected dropWriters(): Promise<void> {
    return this.router.abort();
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
