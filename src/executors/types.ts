/**
 * One interface hides the three modes, so the scheduler never asks where a stage runs.
 * Failure is a value: every method rejects with a SluiceError (StageError or
 * WorkerExitError) that names stage, batch and cause; a copy that dies between tasks is
 * reported through `onFatal`.
 */
import type { OwnedBatch } from '../batch/owned';
import type { SluiceError } from '../errors';
import type { StageMode } from '../config/types';
import type { RetryStats } from '../supervisor/attempts';

export type { Lease } from '../batch/owned';
export { OwnedBatch } from '../batch/owned';

/** Counters an executor keeps about its transport (asserted in tests, shown in the report). */
export interface ParseStats {
  rows: number;
  /** Thread ids (node:worker_threads) the parsing ran on. */
  threads: number[];
}

export interface TransportStats {
  /** Bytes the hand-off itself copied (thread: must stay 0). */
  bytesCopied: number;
  /** Bytes copied into shared memory to make a batch shareable (one copy at the edge). */
  bytesPacked: number;
  /** Bytes serialised to Arrow IPC (process mode), both directions. */
  bytesSerialized: number;
}

/** A keyed stage's cut (executors/keyed.ts): where each item was cut by key, and what it cost. */
export interface KeyedStats {
  /** Milliseconds the main thread spent cutting items (0 when every producer cut its own). */
  splitMs: number;
  rowsPerCopy: number[];
  /** Items cut on the main thread, and items that arrived cut by their producer. */
  cutOnMain: number;
  cutByProducer: number;
  /** Bytes copied into parts on the main thread, and in the producers. */
  bytesCopiedOnMain: number;
  bytesCopiedByProducer: number;
  /** Where producers cut: worker thread ids (node:worker_threads) and child pids. */
  producers: number[];
}

export interface StageExecutor {
  readonly stage: string;
  readonly mode: StageMode;
  /**
   * The stage working on batch `seq` now, when it is not `stage`: a member of a fused group
   * that knows which member runs (inline chains), so a stall names the stage the user wrote.
   */
  runningStage?(seq: number): string | undefined;
  /** While `start()` runs: the stage (a fused group's member) a copy is loading or setting up, for a stall's message. */
  startingStage?(): { stage: string; phase: 'load' | 'setup' } | undefined;
  /** Copies (threads / processes / 1 for inline). */
  readonly copies: number;
  /** Tasks the scheduler may have in flight at once. */
  readonly slots: number;
  /** Start the copies; resolves when they can take work. Rejects if a stage module fails to load. */
  start(): Promise<void>;
  /**
   * After start(): settles (never rejects) once every copy's thread or process exists and boots
   * on its own. Only executors whose copies need the main event loop to come into being have
   * it (a child's data socket takes a few turns of the loop before the spawn).
   */
  launched?(): Promise<void>;
  /**
   * Run `process` over every batch of `input`. The executor owns `input` from the call on and
   * releases it exactly once (`input.consume`): after success, or after the last attempt (a
   * copy that dies under it, or exceeds the stage's `timeout`, is replaced and the batch sent
   * again, up to `retries` times: supervisor/attempts.ts). The result, numbered as the input,
   * is the caller's; it comes once, from the attempt that answered first.
   */
  process(input: OwnedBatch): Promise<OwnedBatch>;
  /**
   * `process` on the given copy (keyed routing, executors/keyed.ts: every row of a key goes to
   * one copy). The caller keeps to the copy's `slotsPerCopy` tasks at once.
   */
  processOn?(copy: number, input: OwnedBatch): Promise<OwnedBatch>;
  /** Call `flush` exactly once in every copy; one output per copy (numbered by the caller). */
  flush(): Promise<OwnedBatch[]>;
  /**
   * A resumable run's unit end, for a stage with `flush` and `combine` (runtime/unit-partials.ts):
   * `flush` in every copy, its output as it is (the unit's partials, one per copy: no `combine`).
   * Called with no task in flight. Unfused stages only.
   */
  flushUnit?(): Promise<OwnedBatch[]>;
  /**
   * After flushUnit: every copy gets a fresh instance of the module and runs `setup` again, in
   * the same thread or child (no new one), so the next unit starts from no state.
   */
  renew?(): Promise<void>;
  /** Graceful shutdown after flush. */
  close(): Promise<void>;
  /** Tear down at once (failure elsewhere); never throws. */
  abort(): Promise<void>;
  /**
   * Per stage it runs (the fused members, in order; one otherwise), the columns projection
   * pushdown left out that it would have received: asking a batch for one fails, naming it
   * (batch/left-out-guard.ts). Called after start(), before the first batch.
   */
  leaveOut?(perMember: readonly (readonly string[])[]): void;
  /** A copy died outside a task, or a transport broke: the run must stop. */
  onFatal(listener: (err: SluiceError) => void): void;
  stats(): TransportStats;
  /** Retries, replaced copies and timeouts so far (undefined: none happened, or the mode has no copies to replace). */
  retries?(): RetryStats | undefined;
  /** A stage that parses its input from CSV text in its copies (fusion): rows parsed, and on which threads. */
  parsed?(): ParseStats;
  /** A keyed stage at more than one copy: where its input was cut by key (executors/keyed.ts). */
  keyed?(): KeyedStats;
  /** Executors that run copies in child processes: each child's peak RSS in bytes (threads share main's). */
  childPeakRss?(): number[];
}
