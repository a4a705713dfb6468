/**
 * One owned batch: the unit that travels between source, stages and sink. It carries its
 * record batches, its one lease on the memory behind them, its byte size (measured once) and,
 * when known, where its bytes lie as one Arrow IPC file or stream in a slab (`backing`), so a
 * consumer that wants bytes (the Parquet encoder, polars) reads them in place.
 *
 * Ownership moves: whoever holds the value either hands it on (`moveTo`, or by giving it to
 * the next holder, who then owns it) or releases it, exactly once. Each hand-off releases in
 * one place (`consume`: a `finally`), as Node's stream `pipeline` tears down in one place.
 * Under test (SLUICE_STRICT_LEASES=1) a second release, or a release after a move, throws.
 */
import type { RecordBatch } from 'apache-arrow';
import { bytesOf, rowCount } from './frame-handoff';
import type { SplitDone, SplitOut } from '../protocol/key-split';
import type { StageReject } from '../protocol/rejects';

/** The batches are already cut by key for a keyed stage (batch/key-split.ts), by whom and at what cost. */
export type KeyedSplit = SplitOut & SplitDone;

/** Where an owned batch's bytes lie, when they are one Arrow IPC message sequence in a slab. */
export interface Backing {
  format: 'ipc-file' | 'ipc-stream';
  slab: SharedArrayBuffer;
  offset: number;
  length: number;
}

/** A hold on memory (shared-memory slabs) behind some batches; released exactly once. */
export interface Lease {
  release(): void;
}

const STRICT = process.env.SLUICE_STRICT_LEASES === '1';

export interface OwnedParts {
  /** Sequence number of the source batch this came from; flush output comes after all. */
  seq: number;
  /** The input file the rows came from (errors, and later resume). */
  sourceFile?: string;
  batches: RecordBatch[];
  lease?: Lease;
  backing?: Backing;
  /**
   * The rows the value stands for, when its batches are not those rows themselves: a CSV
   * chunk or an encoded Parquet part (batch/blob.ts) is one record for many rows.
   */
  rows?: number;
  /**
   * Set when the producer cut its output by key for the keyed stage that reads it: the batches
   * are the parts, `split.copyOf[i]` the copy of batch i (executors/keyed.ts routes them as
   * they are). It describes these batches only: a value with other batches drops it.
   */
  split?: KeyedSplit;
  /**
   * A stage's output only: the rows of its input it rejected (`ctx.reject`), for the scheduler
   * to route by the stage's `onError`. Not carried by `moveTo` or `share`: they describe the
   * task that made this value, not the batches wherever they go next.
   */
  rejected?: readonly StageReject[];
}

export class OwnedBatch {
  readonly seq: number;
  readonly sourceFile: string | undefined;
  readonly batches: RecordBatch[];
  /** Bytes of the Arrow buffers behind the batches (dictionaries included). */
  readonly bytes: number;
  /** Set only when the value is exactly these bytes (one batch, unsliced). */
  readonly backing: Backing | undefined;
  /** See OwnedParts.split. */
  readonly split: KeyedSplit | undefined;
  /** See OwnedParts.rejected. */
  readonly rejected: readonly StageReject[] | undefined;
  private readonly standsFor: number | undefined;
  private lease: Lease | undefined;
  private state: 'held' | 'moved' | 'released' = 'held';

  constructor(parts: OwnedParts) {
    this.seq = parts.seq;
    this.sourceFile = parts.sourceFile;
    this.batches = parts.batches;
    this.lease = parts.lease;
    this.backing = parts.batches.length === 1 ? parts.backing : undefined;
    this.bytes = byteSizeOf(parts.batches);
    this.standsFor = parts.rows;
    this.split = parts.split;
    this.rejected = parts.rejected;
  }

  /** An owned value with no memory to return (batches in ordinary memory). */
  static plain(seq: number, batches: RecordBatch[], sourceFile?: string): OwnedBatch {
    return new OwnedBatch({ seq, batches, sourceFile });
  }

  /** The one record batch (what a source gives); an error when there are several or none. */
  get batch(): RecordBatch {
    if (this.batches.length !== 1) throw new Error(`owned batch #${this.seq} holds ${this.batches.length} record batches, not one`);
    return this.batches[0];
  }

  get rows(): number {
    if (this.standsFor !== undefined) return this.standsFor;
    let n = 0;
    for (const b of this.batches) n += rowCount(b);
    return n;
  }

  /** Whether memory comes back when it is released (slabs to recycle): its batches must not outlive it. */
  get leased(): boolean {
    return this.lease !== undefined;
  }

  get held(): boolean {
    return this.state === 'held';
  }

  /** Give the memory back. Once: a second release (or one after a move) is an ownership bug. */
  release(): void {
    if (this.state !== 'held') {
      if (STRICT) throw new Error(`owned batch #${this.seq} ${this.state === 'moved' ? 'released after it was handed on' : 'released twice'} (an ownership bug: one holder, one release)`);
      return;
    }
    this.state = 'released';
    const lease = this.lease;
    this.lease = undefined;
    lease?.release();
  }

  /**
   * Hand the memory to a new value with other metadata or batches that still lie in the same
   * memory (a renumbered batch, a stage's pass-through output); this one is then empty.
   */
  moveTo(changes: Partial<OwnedParts>): OwnedBatch {
    if (this.state !== 'held') throw new Error(`owned batch #${this.seq} handed on after it was ${this.state}`);
    this.state = 'moved';
    const next = new OwnedBatch({
      seq: changes.seq ?? this.seq,
      sourceFile: 'sourceFile' in changes ? changes.sourceFile : this.sourceFile,
      batches: changes.batches ?? this.batches,
      lease: this.lease,
      backing: changes.batches ? changes.backing : (changes.backing ?? this.backing),
      rows: changes.batches ? changes.rows : (changes.rows ?? this.standsFor),
      split: changes.batches ? changes.split : (changes.split ?? this.split),
    });
    this.lease = undefined;
    return next;
  }

  /**
   * One more holder of the same memory (fan-out: a batch read by several stages or sinks),
   * not a copy: each holder releases once, and the memory comes back when the last one has.
   * The batches are shared as they are: no holder may change them (none does: Arrow data is
   * read-only to stages, and results are written to memory of their own).
   */
  share(): OwnedBatch {
    if (this.state !== 'held') throw new Error(`owned batch #${this.seq} shared after it was ${this.state}`);
    let lease: Lease | undefined;
    if (this.lease) {
      const counted = this.lease instanceof SharedLease ? this.lease : new SharedLease(this.lease);
      this.lease = counted;
      lease = counted.another();
    }
    return new OwnedBatch({ seq: this.seq, sourceFile: this.sourceFile, batches: this.batches, lease, backing: this.backing, rows: this.standsFor, split: this.split });
  }

  /** Use the batches, then release them whatever happens: the one `finally` of a hand-off. */
  async consume<T>(use: (owned: OwnedBatch) => Promise<T> | T): Promise<T> {
    try {
      return await use(this);
    } finally {
      if (this.state === 'held') this.release();
    }
  }
}

/**
 * A lease held by several holders (OwnedBatch.share): the memory behind it comes back when
 * every holder has released. The first holder keeps this object; each other gets a handle.
 */
class SharedLease implements Lease {
  private holders = 1;
  constructor(private readonly inner: Lease) {}

  another(): Lease {
    this.holders++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.drop();
      },
    };
  }

  release(): void {
    this.drop();
  }

  private drop(): void {
    if (--this.holders === 0) this.inner.release();
  }
}

/** Bytes of the Arrow buffers behind the batches (dictionaries included). */
export function byteSizeOf(batches: readonly RecordBatch[]): number {
  let total = 0;
  for (const batch of batches) total += bytesOf(batch);
  return total;
}
