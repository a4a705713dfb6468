/**
 * Messages between the main thread and the source thread, which reads and parses the input
 * (src/io/sources/thread.ts). Batches travel as shared-memory descriptors, like a `thread`
 * stage's: the slabs cross by reference and the main side holds their lease.
 */
import type { WireError } from './errors';
import type { SplitDone, SplitOut } from './key-split';
import type { SharedBatches } from './shared-layout';

export interface SourceThreadData {
  /** The source config as planned (absolute paths, batchRows filled in). */
  cfg: unknown;
  readSize?: number;
  logLevel: string;
  /** Cut each batch by this key for the keyed stage that reads the source (plan/key-split.ts). */
  splitOut?: SplitOut;
  /** `source.onError` other than `fail`: rows that cannot be read are posted as `bad-row`, not fatal. */
  salvage?: boolean;
  /** Post `types` once the first file's rows fix the column types (a resumable run keeps them). */
  tellTypes?: boolean;
}

export type SourceRequest =
  /** Credit: the thread may read and post this many more batches. */
  | { type: 'pull'; batches: number }
  /** Stop reading, close the file, then say `closed`. */
  | { type: 'close' };

export type SourceReply =
  /** `split`: set when the thread cut the batch for its keyed reader (`splitOut`): the copy of each record batch. */
  | { type: 'batch'; file: string; shared: SharedBatches; bytesRead: number; slabAllocations: number; split?: SplitDone }
  | { type: 'end'; bytesRead: number; slabAllocations: number }
  /** Reading failed: a SourceError keeps its file, line and column (errors.ts deserializeError). */
  | { type: 'failed'; error: WireError }
  | { type: 'closed' }
  | { type: 'log'; line: string }
  /** The column types the first file fixed (io/sources FixedSourceTypes as JSON, as a manifest keeps them), posted before its first batch. */
  | { type: 'types'; json: string }
  /** A row taken out of the input (csv/salvage.ts BadRow), posted before the batch it was cut from. */
  | { type: 'bad-row'; row: { file: string; line: number; column?: string; reason: string; raw: string; values: Record<string, unknown> } };
