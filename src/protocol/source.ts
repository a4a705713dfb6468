/**
 * Messages between the main thread and the source thread, which reads and parses the input
 * (src/io/sources/thread.ts). Batches travel as shared-memory descriptors, like a `thread`
 * stage's: the slabs cross by reference and the main side holds their lease.
 */
import type { SharedBatches } from '../batch/shared';
import type { SerializedError, SourceLocation } from '../errors';

export interface SourceThreadData {
  /** The source config as planned (absolute paths, batchRows filled in). */
  cfg: unknown;
  readSize?: number;
  logLevel: string;
}

export type SourceRequest =
  /** Credit: the thread may read and post this many more batches. */
  | { type: 'pull'; batches: number }
  /** Stop reading, close the file, then say `closed`. */
  | { type: 'close' };

export type SourceReply =
  | { type: 'batch'; file: string; shared: SharedBatches; bytesRead: number; slabAllocations: number }
  | { type: 'end'; bytesRead: number; slabAllocations: number }
  /** A SourceError keeps its location (`where` + `detail`) so main rebuilds the same error. */
  | { type: 'error'; error: SerializedError; where?: SourceLocation & { detail: string } }
  | { type: 'closed' }
  | { type: 'log'; line: string };
