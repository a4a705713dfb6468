/**
 * A list of record batches ⇄ Arrow IPC stream bytes, for the process transport.
 *
 * Encoding returns the writer's own chunk list: message headers and padding are small
 * fresh arrays, body buffers are views of the batches' memory, so nothing is
 * concatenated (a socket writes the list with one writev). Consecutive batches with the
 * same schema share one IPC stream; a schema change starts another stream right after
 * (concatenated streams), so any list of batches round-trips, in order, zero-row
 * batches included. Every Arrow type apache-arrow 21.2 can write crosses unchanged,
 * Utf8View / BinaryView included (its writer emits their variadic buffers).
 *
 * Decoding returns batches whose buffers are views into the given bytes (no copy).
 */
import { AsyncByteQueue, RecordBatch, RecordBatchReader, RecordBatchStreamWriter } from 'apache-arrow';
import { rebaseViews } from './views';
import './arrow-names'; // before any schema is decoded

export interface EncodedBatches {
  chunks: Uint8Array[];
  byteLength: number;
}

/** Collects what the writer emits instead of queueing it for an async reader. */
class ChunkSink extends AsyncByteQueue {
  readonly chunks: Uint8Array[] = [];
  byteLength = 0;

  override write(value: Uint8Array): void {
    if (value.byteLength === 0) return;
    this.chunks.push(value);
    this.byteLength += value.byteLength;
  }
}

export function encodeBatches(batches: readonly RecordBatch[]): EncodedBatches {
  if (batches.length === 0) return { chunks: [], byteLength: 0 };
  const sink = new ChunkSink();
  // autoDestroy: false — a new schema ends the current stream and starts the next one
  // instead of closing the writer.
  const writer = new RecordBatchStreamWriter({ autoDestroy: false });
  writer.reset(sink);
  // Sliced Utf8View columns are rebased first: apache-arrow's writer applies their offset twice.
  for (const batch of batches) writer.write(rebaseViews(batch));
  writer.finish();
  return { chunks: sink.chunks, byteLength: sink.byteLength };
}

export function decodeBatches(bytes: Uint8Array): RecordBatch[] {
  if (bytes.byteLength === 0) return [];
  const out: RecordBatch[] = [];
  for (const reader of RecordBatchReader.readAll(bytes)) {
    for (const batch of reader) out.push(batch);
  }
  return out;
}
