/** What a sink is to its callers (the run, commit-set.ts, tests): the interface, apart from the kinds (kinds.ts). */
import type { RecordBatch } from 'apache-arrow';
import type { Backing } from '../../batch/owned';
import type { Publication } from './atomic';

export interface SinkResult {
  path: string;
  files: string[];
  rows: number;
  batches: number;
  bytes: number;
}

/** What a commit is about to publish: `temp` is renamed to `target` (a death watch checks which after a kill). */
export interface Publish {
  rows: number;
  temp: string;
  target: string;
}

/** A sink's output written whole and synced: only its publication (renames) is left. */
export interface Prepared {
  /** Rows the writers wrote. */
  rows: number;
  /** What publishing it will rename, as a commit journal records it. */
  publication: Publication;
}

export interface Sink {
  /**
   * When the promise resolves the sink no longer reads `batch`'s memory. `backing`: where the
   * batch lies as IPC bytes (an OwnedBatch's), read in place by a writer that can.
   */
  write(batch: RecordBatch, meta?: { seq: number; sourceFile?: string; backing?: Backing }): Promise<void>;
  /**
   * Close the writers, sync the temporary, and check that the target may still be written
   * ("error-if-exists": not created meanwhile; "append": unchanged). After it, nothing but the
   * renames of publish() can fail.
   */
  prepare(): Promise<Prepared>;
  /**
   * Make the prepared output visible (the renames), then release the target's lock, unless
   * `holdLock` (a commit of several outputs holds every lock until its journal is gone: release()).
   */
  publish(opts?: { holdLock?: boolean }): Promise<SinkResult>;
  /** Release the target's lock; never throws. */
  release(): void;
  /**
   * prepare() then publish(), for a caller with one sink. `beforeRename` runs between them, with
   * the rows the writers wrote and the rename to come: a throw there commits nothing (the run
   * failed meanwhile, or the count is not what was handed to the sink).
   */
  commit(beforeRename?: (written: Publish) => void): Promise<SinkResult>;
  /**
   * A commit of several outputs failed after one was published: keep this prepared output for
   * its journal (recovery publishes it) and release the lock; abort() then removes nothing.
   */
  keep(): void;
  /** A directory sink: put a small file of the run's own at the root of its new tree (published with it). */
  addFile?(name: string, text: string): Promise<void>;
  /** Remove every temporary file; never throws. */
  abort(): Promise<void>;
}
