/**
 * Messages between the Parquet encoding operator's main side (io/parquet/encoder/pool.ts) and
 * an encoder thread. Batches travel as Arrow IPC bytes in shared memory; each row group comes
 * back as a small whole Parquet file. A group is one row group of one output, numbered by the
 * pool (unique across every output it encodes for).
 *
 * `Csv` is how a CSV chunk is parsed (its place in the file and the parse options of
 * csv/parse.ts): plain data the encoder hands to the parser as it is.
 */
import type { WireError } from './errors';

export type EncoderRequest<Csv = unknown> =
  /** A batch as IPC bytes: a `stream` copied into a slot, or the `file` polars wrote into a slab (read in place). */
  | { type: 'batch'; group: number; slot: number; format: 'stream' | 'file'; sab: SharedArrayBuffer; offset: number; length: number }
  /** Encode the group; `orEmpty`: when it has no rows, a whole file with the schema (an output without rows). */
  | { type: 'end'; group: number; compression: string; orEmpty: boolean }
  /**
   * A chunk of CSV rows (in a slot) that is a row group of its own: parse, encode, send back;
   * or, with `into`, rows added to an open group (ended by `end`), as a batch is.
   */
  | ({ type: 'csv'; group: number; slot: number; sab: SharedArrayBuffer; length: number; compression: string; orEmpty: boolean; into?: boolean } & Csv)
  /** Forget the group (its output was aborted). */
  | { type: 'drop'; group: number }
  /** Look at the stop flag now (it wakes an idle thread; a busy one looks before its next message). */
  | { type: 'stop' };

export type EncoderReply = (
  | { type: 'free'; slot: number }
  /** A row group as a whole Parquet file (`whole`: the entire output); no bytes for a group without rows. */
  | { type: 'part'; group: number; rows: number; whole: boolean; bytes?: Uint8Array }
  /** A SourceError (a CSV chunk did not parse: file, line, column) or whatever else failed. */
  | { type: 'failed'; group: number; error: WireError }
) & {
  /** Milliseconds the thread worked on its current message since its previous reply (reading, parsing, encoding). */
  busyMs?: number;
};
