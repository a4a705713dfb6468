/**
 * Parquet with bounded memory. nodejs-polars 0.24.1 has no incremental Parquet writer for
 * DataFrames, but its streaming engine has: batches are spooled to Arrow IPC part files
 * (written synchronously, so batch memory is free at once), and `close()` converts them
 * with `scanIPC(parts).sinkParquet(...)`, which streams (memory does not grow with the file).
 * Costs one extra sequential write+read of the data through the page cache.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import pl from 'nodejs-polars';
import { SinkError } from '../../../errors';
import { ArrowFileWriter } from './arrow';
import type { FormatWriter, WriterOptions } from './types';

/**
 * Where to spool: beside the output, but above any `key=value` directory, because polars
 * 0.24.1 reads Hive partition columns out of every IPC path it scans (there is no switch),
 * and would add e.g. a `day` column to the output of a partition `day=2026-11-24/`.
 */
export function spoolDirFor(file: string): string {
  const parts = path.resolve(file).split(path.sep);
  let keep = parts.length - 1; // the file's directory
  while (keep > 1 && parts.slice(0, keep).some((p) => p.includes('='))) keep--;
  return path.join(parts.slice(0, keep).join(path.sep) || path.sep, `.sluice-spool-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Roll to a new part file past this size, so no single spool file gets huge. */
const PART_BYTES = 256 * 1024 * 1024;

export class ParquetWriter implements FormatWriter {
  private readonly spool: string;
  private part: ArrowFileWriter | undefined;
  private parts = 0;
  private empty: RecordBatch | undefined;
  rows = 0;

  constructor(
    readonly file: string,
    private readonly opts: WriterOptions,
  ) {
    this.spool = spoolDirFor(file);
    mkdirSync(this.spool, { recursive: true });
  }

  write(batch: RecordBatch): void {
    if (batch.numRows === 0) {
      this.empty ??= batch; // keeps the schema for an all-empty output
      return;
    }
    if (!this.part || this.part.bytes > PART_BYTES) {
      void this.part?.close();
      this.part = new ArrowFileWriter(path.join(this.spool, `part-${String(this.parts++).padStart(6, '0')}.arrow`));
    }
    this.part.write(batch);
    this.rows += batch.numRows;
  }

  async close(): Promise<void> {
    await this.part?.close();
    try {
      if (this.parts === 0) {
        // No rows: an empty file with the schema we saw (or no columns at all).
        const writer = new ArrowFileWriter(path.join(this.spool, 'part-000000.arrow'));
        if (this.empty) writer.write(this.empty);
        await writer.close();
        const df = this.empty ? pl.readIPC(path.join(this.spool, 'part-000000.arrow')) : pl.DataFrame({});
        df.writeParquet(this.file, { compression: (this.opts.compression ?? 'zstd') as 'zstd' });
      } else {
        await pl
          .scanIPC(path.join(this.spool, '*.arrow'))
          .sinkParquet(this.file, { compression: (this.opts.compression ?? 'zstd') as 'zstd', rowGroupSize: this.opts.rowGroupSize })
          .collect();
      }
    } catch (err) {
      throw new SinkError(`cannot write Parquet ${this.file}`, err);
    } finally {
      rmSync(this.spool, { recursive: true, force: true });
    }
  }

  async abort(): Promise<void> {
    await this.part?.abort();
    rmSync(this.spool, { recursive: true, force: true });
  }
}
