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
  readonly chunks: readonly Uint8Array[];
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

/**
 * One batch's encoding, kept while the batch lives. A resumable run's cut sends each batch to
 * a process stage and stages it too (io/units/frames.ts): the second asks for the same bytes,
 * and encoding them costs the main thread ~0.4 ms a batch of the nightly job (58 326 rows, 7 columns). A RecordBatch
 * never changes, so its encoding cannot go stale; the chunk list is frozen. Kept only when it
 * holds no memory of its own beyond the messages' headers: a batch whose view columns had to
 * be rebased (copied) is encoded afresh each time rather than held twice.
 */
const encodedOnce = new WeakMap<RecordBatch, EncodedBatches>();

export function encodeBatches(batches: readonly RecordBatch[]): EncodedBatches {
  if (batches.length === 0) return { chunks: [], byteLength: 0 };
  if (batches.length !== 1) return encodeStream(batches.map(rebaseViews));
  const batch = batches[0];
  const kept = encodedOnce.get(batch);
  if (kept) return kept;
  const rebased = rebaseViews(batch);
  const encoded = encodeStream([rebased]);
  if (rebased === batch) encodedOnce.set(batch, encoded);
  return encoded;
}

/** `batches` as IPC streams; sliced Utf8View columns must be rebased first (apache-arrow's writer applies their offset twice). */
function encodeStream(batches: readonly RecordBatch[]): EncodedBatches {
  const sink = new ChunkSink();
  // autoDestroy: false — a new schema ends the current stream and starts the next one
  // instead of closing the writer.
  const writer = new RecordBatchStreamWriter({ autoDestroy: false });
  writer.reset(sink);
  for (const batch of batches) writer.write(batch);
  writer.finish();
  return { chunks: Object.freeze(sink.chunks), byteLength: sink.byteLength };
}

export function decodeBatches(bytes: Uint8Array): RecordBatch[] {
  if (bytes.byteLength === 0) return [];
  const out: RecordBatch[] = [];
  for (const reader of RecordBatchReader.readAll(bytes)) {
    for (const batch of reader) out.push(batch);
  }
  return out;
}
