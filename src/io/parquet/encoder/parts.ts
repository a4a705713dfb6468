/**
 * Encoded row groups on their way from the encoding stage to the sink (batch/blob.ts), and
 * the sink's side: appending them to one file in the order they come, under one merged footer
 * (../footer.ts). The file is written only here, by the sink, so an abort only has to stop.
 */
import { writeSync } from 'node:fs';
import type { RecordBatch } from 'apache-arrow';
import { blobBatch, readBlob } from '../../../batch/blob';
import { ParquetAssembler } from '../footer';
import type { Part } from './pool';

export const PART_BLOB = 'parquet-part';

/** A part as a one-record batch; undefined for a group without rows (nothing to append). */
export function partBatch(part: Part): RecordBatch | undefined {
  if (!part.bytes) return undefined;
  return blobBatch(PART_BLOB, part.bytes, { rows: part.rows, whole: part.whole });
}

export function partOf(batch: RecordBatch): Part {
  const { bytes, meta } = readBlob<{ rows: number; whole: boolean }>(batch, PART_BLOB);
  return { bytes, rows: meta.rows, whole: meta.whole };
}

/** Appends parts to an open file descriptor in the order given; `finish` writes the footer. */
export class PartAppender {
  private readonly assembler = new ParquetAssembler();
  private wholeWritten = false;
  rows = 0;

  /** `out`: where to write; its `fd` is read at each write (a partition's file may be reopened between parts). */
  constructor(private readonly out: { readonly fd: number }) {}

  append(part: Part): void {
    if (!part.bytes) return;
    if (part.whole) {
      // The entire output, without rows (the schema only): it is the file as it is.
      if (this.assembler.written > 0 || this.wholeWritten) throw new Error('internal: a whole-file part after other parts');
      this.wholeWritten = true;
      write(this.out.fd, part.bytes);
      return;
    }
    if (this.wholeWritten) throw new Error('internal: a row group after a whole-file part');
    if (this.assembler.written === 0) write(this.out.fd, this.assembler.header());
    write(this.out.fd, this.assembler.add(part.bytes));
    this.rows += part.rows;
  }

  /** Writes the merged footer; returns the row groups written. */
  finish(): number {
    if (this.assembler.rowGroups > 0) write(this.out.fd, this.assembler.footer());
    return this.assembler.rowGroups;
  }
}

function write(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
