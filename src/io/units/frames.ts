/**
 * A staged unit's batches on disk: each batch as its own small Arrow IPC stream (schema +
 * batch), behind an 8-byte length. One stream per batch because a batch's schema metadata
 * travels with it (a Parquet part's blob metadata, a partition tag: batch/blob.ts,
 * batch/partition-tag.ts) and one IPC stream has one schema; and because a frame is whole or
 * absent, so a reader never mistakes a torn tail for data (a torn unit is never in the
 * manifest anyway: manifest.ts).
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { RecordBatch, Table, tableFromIPC, tableToIPC } from 'apache-arrow';

const HEADER = 8;

/** `batch` as one frame: its header and body, to be written one after the other. */
export function frameBytes(batch: RecordBatch): [Buffer, Uint8Array] {
  const body = tableToIPC(new Table([batch]), 'stream');
  const head = Buffer.alloc(HEADER);
  head.writeBigUInt64LE(BigInt(body.byteLength));
  return [head, body];
}

/** Appends `batch` as one frame to the open file `fd`; returns the bytes written. */
export function writeFrame(fd: number, batch: RecordBatch): number {
  const body = tableToIPC(new Table([batch]), 'stream');
  const head = Buffer.alloc(HEADER);
  head.writeBigUInt64LE(BigInt(body.byteLength));
  writeSync(fd, head);
  let off = 0;
  while (off < body.byteLength) off += writeSync(fd, body, off, body.byteLength - off);
  return HEADER + body.byteLength;
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
      const body = Buffer.alloc(len);
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
