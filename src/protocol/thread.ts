/**
 * Messages between the main thread and a stage's worker threads. Batches travel as
 * shared-memory descriptors (src/batch/shared.ts): SharedArrayBuffers by reference.
 */
import type { WireError } from './errors';
import type { SplitDone, SplitOut } from './key-split';
import type { SharedBatches } from './shared-layout';
import type { StageReject } from './rejects';

export interface ThreadWorkerData {
  stage: string;
  modulePath: string;
  options: Record<string, unknown>;
  /** The run's params (strings, numbers, booleans). */
  params: Record<string, string | number | boolean>;
  /** This thread's copy index (each copy is a pool of its own thread). */
  copy: number;
  copies: number;
  logLevel: string;
  /**
   * Adjacent stages fused into this copy (plan/fuse.ts), run in this order on each batch; absent:
   * the one stage above. (`stage`, `modulePath` and `options` then name the fused group.)
   */
  members?: { stage: string; modulePath: string; options: Record<string, unknown> }[];
  /** Fused: an Int32 the copy sets to the member it is running, read by main to name it if the copy dies. */
  runningMember?: SharedArrayBuffer;
  /** Cut each output of `process` by this key for the keyed stage that reads it (plan/key-split.ts). */
  splitOut?: SplitOut;
}

export type ThreadTask =
  /** `input`: a batch of rows, or a chunk of CSV text (csv/item.ts) the copy parses first. */
  /** `from`: the fused member to start at (a combine's merged output re-enters after its stage); 0 when absent. */
  /** `leftOut`: per member, the columns projection pushdown left out that it would have received (StageHost.leaveOut). */
  | { type: 'process'; seq: number; sourceFile?: string; input: SharedBatches; from?: number; leftOut?: string[][] }
  /** Sent to each copy once (each copy is its own single-thread pool). */
  | { type: 'setup' }
  /** `member`'s flush (0 when absent); `pipe`: its output through the members after it (default true). */
  | { type: 'flush'; member?: number; pipe?: boolean }
  /**
   * A fresh instance of the stage's module in this thread, and its setup run again (a resumable
   * run's next unit of a stage with flush and combine: runtime/unit-partials.ts).
   */
  | { type: 'renew' };

export type ThreadResult =
  | {
      type: 'ok';
      copy: number;
      output?: SharedBatches;
      /** Bytes the worker copied into a slab (outputs built in ordinary memory). */
      packedBytes: number;
      /** Bytes of input the worker received outside shared memory (the hand-off copied them). */
      copiedBytes: number;
      /** Rows the copy parsed from CSV text before the stage ran (fusion), and the thread that did. */
      parsedRows?: number;
      threadId?: number;
      /** Set when the copy cut its output for a keyed reader (`splitOut`): the copy of each output batch. */
      split?: SplitDone;
      /** Rows of the input the stage(s) rejected with `ctx.reject` (absent: none). */
      rejected?: StageReject[];
    }
  /** The stage failed: a StageError (phase, stage, copy, batch) as it was thrown in the worker. */
  | { type: 'failed'; error: WireError };

/** A log line from a worker's pino logger (posted outside any task). */
export interface ThreadLogEvent {
  type: 'sluice:log';
  line: string;
}
