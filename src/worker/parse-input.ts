/**
 * Fusion of parsing into a stage's copy: when the source hands this copy a chunk of CSV text
 * instead of a batch (plan.parseIn), the copy parses it here, on its own thread, into a slab of
 * its own, and the stage runs on the result. A value that does not fit its column's type is the
 * source's error (file, line, column), as when the source parses.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Backing, Lease } from '../batch/owned';
import type { SlabArena } from '../batch/slab';
import { dataFrameToSlab } from '../batch/polars';
import { isCsvChunk, readCsvChunk } from '../csv/item';
import type { HostInput } from './host';

export interface ParsedInput {
  input: HostInput;
  /** Holds the slab the parsed batch lies in (count 1); the output retains what it passes on. */
  lease: Lease;
  rows: number;
}

/** polars' IPC bytes of the last chunk: the next slab's size guess. */
let lastBytes = 0;

/** The parsed chunk when `batches` is a CSV chunk item, else undefined (a batch of rows). */
export function parseIfChunk(batches: readonly RecordBatch[], arena: SlabArena): ParsedInput | undefined {
  if (!isCsvChunk(batches)) return undefined;
  // Loaded on first use (it loads polars): a copy that is never handed text does not pay for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see above
  const { parseChunk } = require('../csv/parse') as typeof import('../csv/parse');
  const chunk = readCsvChunk(batches[0]);
  const df = parseChunk(chunk, chunk.parse);
  const converted = dataFrameToSlab(df.rechunk(), arena, Math.ceil(lastBytes * 1.1));
  lastBytes = converted.bytes;
  const backing: Backing | undefined = converted.backing;
  return { input: { batches: converted.batches, backing }, lease: converted.lease, rows: df.height };
}
