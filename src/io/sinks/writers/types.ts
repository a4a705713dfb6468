import type { RecordBatch } from 'apache-arrow';
import type { Backing } from '../../../batch/owned';
import type { EncoderPool } from '../../parquet/encoder/pool';

/** Writes one output file. `write` is done with the batch's memory when it returns/resolves. */
export interface FormatWriter {
  /** `backing`: where the batch lies as IPC bytes, for a writer that can read them in place. */
  write(batch: RecordBatch, backing?: Backing): void | Promise<void>;
  /** Finish the file (footer, conversion); does not fsync. */
  close(): Promise<void>;
  /** Stop and release handles; the caller removes the files. Never throws. */
  abort(): Promise<void>;
  /**
   * Let go of the file descriptor; the next write reopens the file where it ended (the same
   * file, not a new one). Absent for a writer that cannot continue a file later.
   */
  suspend?(): void;
  readonly rows: number;
}

export interface WriterOptions {
  compression?: string;
  rowGroupSize?: number;
  /** Open the file for appending (CSV/NDJSON): the header is checked, not written again. */
  append?: boolean;
  /** The path to name in messages when `file` is a working copy (the sink's target). */
  shownAs?: string;
  /** Parquet: the sink's encoder threads (started on first use, shared by its files). */
  encoderPool?: () => EncoderPool;
  /** Parquet: the batches are parts encoded upstream (the run's encoding stage): append them only. */
  parts?: boolean;
}
