/**
 * A checked chunk of CSV text as an item of the topology (batch/blob.ts): its text, where its
 * rows are in the file and how to parse them. The source yields these instead of batches when
 * the stage after it parses (a plain conversion's Parquet encoding, or a fused thread stage), so
 * the text crosses to the parsing thread as one blob and is parsed there.
 */
import { blobBatch, blobKind, readBlob } from '../batch/blob';
import { OwnedBatch } from '../batch/owned';
import type { RecordBatch } from 'apache-arrow';
import type { ChunkText, CsvChunk, CsvParse } from './parse';

export const CSV_CHUNK_BLOB = 'csv-chunk';

/** What a chunk item carries besides its text: plain data, it crosses to threads as it is. */
export type CsvChunkMeta = { chunk: Omit<ChunkText, 'text'>; parse: CsvParse };

export function csvChunkItem(chunk: CsvChunk): OwnedBatch {
  const { text, parse, recycle, ...where } = chunk;
  const meta: CsvChunkMeta = { chunk: where, parse };
  // The text's buffer goes back to the reader once the item is released (its text copied on).
  const lease = recycle && { release: () => void recycle() };
  return new OwnedBatch({ seq: 0, sourceFile: parse.file, batches: [blobBatch(CSV_CHUNK_BLOB, text, meta)], rows: chunk.rows, lease });
}

export function isCsvChunk(batches: readonly RecordBatch[]): boolean {
  return batches.length === 1 && blobKind(batches[0]) === CSV_CHUNK_BLOB;
}

/** The chunk an item's batch carries: its text viewed where it lies (nothing copied). */
export function readCsvChunk(batch: RecordBatch): ChunkText & { parse: CsvParse } {
  const { bytes, meta } = readBlob<CsvChunkMeta>(batch, CSV_CHUNK_BLOB);
  return { ...meta.chunk, text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), parse: meta.parse };
}
