/**
 * Messages between the main thread and a stage's worker threads. Batches travel as
 * shared-memory descriptors (src/batch/shared.ts): SharedArrayBuffers by reference.
 */
import type { WireError } from './errors';
import type { SharedBatches } from './shared-layout';

export interface ThreadWorkerData {
  stage: string;
  modulePath: string;
  options: Record<string, unknown>;
  copies: number;
  logLevel: string;
  /** Int32 counter: each thread takes the next copy index. */
  copyCounter: SharedArrayBuffer;
}

export type ThreadTask =
  | { type: 'process'; seq: number; sourceFile?: string; input: SharedBatches }
  /**
   * Run `setup` or `flush` once in every copy: each copy that took one waits on the barrier
   * until all `copies` have, so no thread takes two (piscina cannot address a thread).
   */
  | { type: 'setup' | 'flush'; barrier: SharedArrayBuffer; copies: number; timeoutMs: number };

export type ThreadResult =
  | {
      type: 'ok';
      copy: number;
      output?: SharedBatches;
      /** Bytes the worker copied into a slab (outputs built in ordinary memory). */
      packedBytes: number;
      /** Bytes of input the worker received outside shared memory (the hand-off copied them). */
      copiedBytes: number;
    }
  /** The stage failed: a StageError (phase, stage, copy, batch) as it was thrown in the worker. */
  | { type: 'failed'; error: WireError };

/** A log line from a worker's pino logger (posted outside any task). */
export interface ThreadLogEvent {
  type: 'sluice:log';
  line: string;
}
