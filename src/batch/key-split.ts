/**
 * Keyed routing's cut of batches into one part per copy (`key: [...]` on a stage): row `i`
 * goes to the copy `hash(key values) mod copies` (batch/key-hash.ts), so every row of a key
 * reaches the same copy, batch after batch, whoever cuts. One function for every place that
 * cuts: the producer's worker (a thread stage's copy, the source thread, a process child)
 * before its output crosses to main, or the main thread (executors/keyed.ts) when the
 * producer runs there. The parts are in copy order; each copy's rows keep their order.
 */
import type { RecordBatch } from 'apache-arrow';
import { StageError } from '../errors';
import type { SplitDone, SplitOut } from '../protocol/key-split';
import { hashKeyRows } from './key-hash';
import { byteSizeOf, type Backing } from './owned';
import { takeRows } from './take';

/**
 * The rows of each copy, in row order: row `i` goes to copy `hashes[i] mod copies`. A counting
 * sort (two passes, no comparisons).
 */
export function rowsByCopy(hashes: Uint32Array, copies: number): Uint32Array[] {
  const counts = new Array<number>(copies).fill(0);
  for (let i = 0; i < hashes.length; i++) counts[hashes[i] % copies]++;
  const rows = counts.map((c) => new Uint32Array(c));
  const at = new Array<number>(copies).fill(0);
  for (let i = 0; i < hashes.length; i++) {
    const c = hashes[i] % copies;
    rows[c][at[c]++] = i;
  }
  return rows;
}

/**
 * Which copies get a part of a batch: those with rows. A batch without rows still goes through
 * the stage once (it carries the schema on, as it would through one copy): to copy 0.
 */
export function copiesWithRows(counts: readonly number[]): number[] {
  const some = counts.flatMap((c, copy) => (c > 0 ? [copy] : []));
  return some.length ? some : [0];
}

export interface KeyParts {
  /** The parts, copy after copy (a copy's parts in the order of the batches they came from). */
  batches: RecordBatch[];
  /** `copyOf[i]`: the copy `batches[i]` goes to; ascending. */
  copyOf: number[];
  /** Rows per copy. */
  rowsPerCopy: number[];
  /** Bytes copied into parts; a batch whose rows all go to one copy is passed on as it is (0 bytes). */
  copiedBytes: number;
}

/** Throws (naming the column) when a key column is missing or cannot be hashed. */
export function splitByKey(batches: readonly RecordBatch[], key: readonly string[], copies: number): KeyParts {
  const perCopy: RecordBatch[][] = Array.from({ length: copies }, () => []);
  const rowsPerCopy = new Array<number>(copies).fill(0);
  let copiedBytes = 0;
  for (const batch of batches) {
    const rows = rowsByCopy(hashKeyRows(batch, key), copies);
    const counts = rows.map((r) => r.length);
    for (const copy of copiesWithRows(counts)) {
      rowsPerCopy[copy] += counts[copy];
      if (counts[copy] === batch.numRows) perCopy[copy].push(batch);
      else {
        const part = takeRows(batch, rows[copy]);
        copiedBytes += byteSizeOf([part]);
        perCopy[copy].push(part);
      }
    }
  }
  const copyOf = perCopy.flatMap((parts, copy) => parts.map(() => copy));
  return { batches: perCopy.flat(), copyOf, rowsPerCopy, copiedBytes };
}

/**
 * A producer's output cut for its keyed reader, in the producer (a worker or child) before the
 * output crosses to main: the parts, the backing when the output passed whole, and what to tell
 * main (`split`). A failure to cut is the keyed stage's StageError, as it is when main cuts.
 */
export function cutForReader(
  out: { batches: RecordBatch[]; backing?: Backing },
  splitOut: SplitOut,
  where: { seq?: number; sourceFile?: string; threadId?: number; pid?: number },
): { batches: RecordBatch[]; backing?: Backing; split: SplitDone } {
  let parts: KeyParts;
  try {
    parts = splitByKey(out.batches, splitOut.key, splitOut.copies);
  } catch (err) {
    throw keyError(splitOut.stage, splitOut.key, where, err);
  }
  const whole = parts.batches.length === out.batches.length && parts.batches.every((b, i) => b === out.batches[i]);
  const by = where.threadId !== undefined ? { threadId: where.threadId } : where.pid !== undefined ? { pid: where.pid } : {};
  return { batches: parts.batches, backing: whole ? out.backing : undefined, split: { copyOf: parts.copyOf, copiedBytes: parts.copiedBytes, ...by } };
}

/** The keyed stage's error for rows it could not route (a key column missing or of a type it cannot hash). */
export function keyError(stage: string, key: readonly string[], where: { seq?: number; sourceFile?: string }, err: unknown): StageError {
  return new StageError({ stage, seq: where.seq, sourceFile: where.sourceFile }, 'process', new Error(`routing rows by key (${key.join(', ')}): ${(err as Error).message}`));
}
