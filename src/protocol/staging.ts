/**
 * Messages between a run's staging (io/units/staging-thread.ts) and its staging thread
 * (io/units/staging-worker.ts). Each request but `open` and `exit` is answered by its `seq`.
 */
import type { WireError } from './errors';

export type StagingRequest =
  /** A file the main thread opened (openStagedFile): this thread writes it from now on. */
  | { type: 'open'; id: number; fd: number; direct: boolean }
  /** Chunks in shared memory (views of SharedArrayBuffers), appended in order. */
  | { type: 'append'; id: number; seq: number; chunks: Uint8Array[] }
  | { type: 'flush' | 'sync' | 'close'; id: number; seq: number }
  | { type: 'exit' };

export interface StagingReply {
  seq: number;
  error?: WireError;
}
