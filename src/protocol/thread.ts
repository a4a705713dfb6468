/**
 * Messages between the main thread and a stage's worker threads. Batches travel as
 * shared-memory descriptors (src/batch/shared.ts): SharedArrayBuffers by reference.
 */
import type { SharedBatches } from '../batch/shared';
import type { SerializedError } from '../errors';

export interface ThreadWorkerData {
  stage: string;
  modulePath: string;
  options: Record<string, unknown>;
  /** The run's params (strings, numbers, booleans). */
  params: Record<string, string | number | boolean>;
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
  | { type: 'error'; copy: number; phase: 'load' | 'setup' | 'process' | 'flush'; cause: SerializedError };

/** A log line from a worker's pino logger (posted outside any task). */
export interface ThreadLogEvent {
  type: 'sluice:log';
  line: string;
}
