/**
 * One interface hides the three modes, so the scheduler never asks where a stage runs.
 * Failure is a value: every method rejects with a SluiceError (StageError or
 * WorkerExitError) that names stage, batch and cause; a copy that dies between tasks is
 * reported through `onFatal`.
 */
import type { RecordBatch } from 'apache-arrow';
import type { SluiceError } from '../errors';
import type { StageMode } from '../config/types';

/**
 * A hold on memory (shared-memory slabs) that backs some batches. Released exactly once,
 * by whoever holds the batches last (invariant 1 in DESIGN.md).
 */
export interface Lease {
  release(): void;
}

/** The unit that travels through channels: the output of one input batch. */
export interface Item {
  /** Sequence number of the source batch this came from; flush output comes after all. */
  seq: number;
  /** Source file the rows came from (for error messages and later for resume). */
  sourceFile?: string;
  batches: RecordBatch[];
  /** Memory behind `batches`, when it must be returned to an arena. */
  lease?: Lease;
}

export interface StageOutput {
  batches: RecordBatch[];
  lease?: Lease;
}

/** Counters an executor keeps about its transport (asserted in tests, shown in the report). */
export interface TransportStats {
  /** Bytes the hand-off itself copied (thread: must stay 0). */
  bytesCopied: number;
  /** Bytes copied into shared memory to make a batch shareable (one copy at the edge). */
  bytesPacked: number;
  /** Bytes serialised to Arrow IPC (process mode), both directions. */
  bytesSerialized: number;
}

export interface StageExecutor {
  readonly stage: string;
  readonly mode: StageMode;
  /** Copies (threads / processes / 1 for inline). */
  readonly copies: number;
  /** Tasks the scheduler may have in flight at once. */
  readonly slots: number;
  /** Start the copies; resolves when they can take work. Rejects if a stage module fails to load. */
  start(): Promise<void>;
  /** Run `process` over every batch of the item. The caller keeps the input item's lease. */
  process(item: Item): Promise<StageOutput>;
  /** Call `flush` exactly once in every copy; one output per copy. */
  flush(): Promise<StageOutput[]>;
  /** Graceful shutdown after flush. */
  close(): Promise<void>;
  /** Tear down at once (failure elsewhere); never throws. */
  abort(): Promise<void>;
  /** A copy died outside a task, or a transport broke: the run must stop. */
  onFatal(listener: (err: SluiceError) => void): void;
  stats(): TransportStats;
  /** Executors that run copies in child processes: each child's peak RSS in bytes (threads share main's). */
  childPeakRss?(): number[];
}
