/**
 * Batches that are exactly an Arrow IPC file polars wrote into a slab, and where its bytes
 * are. polars can read such a batch back from those bytes as they are, with no encoding and
 * no copy on our side (batch/polars.ts, the Parquet sink). A batch object is immutable, so
 * the mark stays true; a slice or a rebuilt batch is another object and carries it only
 * where it is passed on on purpose (batch/shared.ts, across threads).
 */
import type { RecordBatch } from 'apache-arrow';

export interface IpcFileBytes {
  slab: SharedArrayBuffer;
  offset: number;
  length: number;
}

const files = new WeakMap<RecordBatch, IpcFileBytes>();

export function ipcFileBytesOf(batch: RecordBatch): IpcFileBytes | undefined {
  return files.get(batch);
}

export function markIpcFileBytes(batch: RecordBatch, bytes: IpcFileBytes): void {
  files.set(batch, bytes);
}
