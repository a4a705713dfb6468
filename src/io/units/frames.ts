/**
 * A staged unit's batches on disk: each batch as its own small Arrow IPC stream (schema +
 * batch), behind an 8-byte length. One stream per batch because a batch's schema metadata
 * travels with it (a Parquet part's blob metadata, a partition tag: batch/blob.ts,
 * batch/partition-tag.ts) and one IPC stream has one schema; and because a frame is whole or
 * absent, so a reader never mistakes a torn tail for data (a torn unit is never in the
 * manifest anyway: manifest.ts).
 *
 * Written with the writer's own chunks (batch/ipc.ts: message headers are small fresh arrays,
 * body chunks are views of the batch's own buffers): nothing is joined first, and the main
 * thread only encodes the small metadata; the staging thread writes them (staging-thread.ts).
 * Joining was most of what staging cost the main thread (issue 26's bench: a copy of every
 * staged byte, on the thread that runs the pipeline). The chunks view the batch's memory: its
 * owner must hold it until the append has settled (staging.ts).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { RecordBatch, tableFromIPC } from 'apache-arrow';
import { encodeBatches } from '../../batch/ipc';

const HEADER = 8;

/** `batch` as one frame: its 8-byte length, then its IPC stream's chunks (views, not copies, of the batch's buffers). */
export function frameChunks(batch: RecordBatch): { chunks: Uint8Array[]; byteLength: number } {
  // encodeBatches rebases sliced view columns (apache-arrow's writer would write them unreadable).
  const { chunks, byteLength } = encodeBatches([batch]);
  const head = Buffer.alloc(HEADER);
  head.writeBigUInt64LE(BigInt(byteLength));
  return { chunks: [head, ...chunks], byteLength: HEADER + byteLength };
}

/** The batches of a frames file, one at a time (one frame in memory at once). */
export function* readFrames(file: string): Generator<RecordBatch> {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    let pos = 0;
    const head = Buffer.alloc(HEADER);
    while (pos < size) {
      if (readSync(fd, head, 0, HEADER, pos) !== HEADER) throw new Error(`${file}: a frame header is cut short at byte ${pos}`);
      const len = Number(head.readBigUInt64LE());
      // Every byte of it is read below (or the frame is refused): no need to zero it first.
      const body = Buffer.allocUnsafe(len);
      if (readSync(fd, body, 0, len, pos + HEADER) !== len) throw new Error(`${file}: a frame is cut short at byte ${pos}`);
      pos += HEADER + len;
      const table = tableFromIPC(body);
      // The stream's schema is the batch's own (metadata included).
      for (const b of table.batches) yield new RecordBatch(table.schema, b.data);
    }
  } finally {
    closeSync(fd);
  }
}
