/**
 * Parquet files with bounded memory, encoded while the stream runs. nodejs-polars 0.24.1 has
 * no incremental Parquet writer, so each row group is encoded by polars as a small whole file
 * on an encoder thread (io/parquet/encoder/) and appended to this one in order; one merged
 * footer lists them all at the end (io/parquet/footer.ts).
 *
 * Two writers. In a run the plan puts the encoding in the topology as a stage of its own
 * (operators/parquet-encode.ts), partitioned or not, and the sink only appends the parts it
 * sends, in order (`ParquetPartWriter`). A sink used on its own (`openSink`: tests, embedding)
 * encodes the batches it is given itself, on its sink's pool (`ParquetWriter`).
 */
import { closeSync, openSync } from 'node:fs';
import { OutputFd } from './fd';
import type { RecordBatch } from 'apache-arrow';
import type { Backing } from '../../../batch/owned';
import { PARQUET_COMPRESSION, PARQUET_ROW_GROUP_ROWS } from '../../../defaults';
import { SinkError } from '../../../errors';
import type { EncoderPool, Part } from '../../parquet/encoder/pool';
import { PartAppender, partOf } from '../../parquet/encoder/parts';
import { RowGroupCutter } from '../../parquet/encoder/row-groups';
import type { FormatWriter, WriterOptions } from './types';

/** Appends the encoded parts the topology's encoding stage sends (blobs: parts.ts). */
export class ParquetPartWriter implements FormatWriter {
  private readonly out: OutputFd;
  private readonly appender: PartAppender;
  rowGroups = 0;

  constructor(readonly file: string) {
    this.out = new OutputFd(file, 'w');
    this.appender = new PartAppender(this.out);
  }

  get rows(): number {
    return this.appender.rows;
  }

  write(batch: RecordBatch): void {
    try {
      this.appender.append(partOf(batch));
    } catch (err) {
      throw new SinkError(`cannot write Parquet ${this.file}`, err);
    }
  }

  /** Parts are appended whole and synchronously: between two, the file can be let go and continued. */
  suspend(): void {
    this.out.suspend();
  }

  async close(): Promise<void> {
    try {
      this.rowGroups = this.appender.finish();
    } finally {
      this.out.close();
    }
  }

  async abort(): Promise<void> {
    try {
      this.out.close();
    } catch {
      // already closed
    }
  }
}

/** Encodes the batches it is given on `pool` and appends the parts in order. */
export class ParquetWriter implements FormatWriter {
  private readonly fd: number;
  private readonly cutter: RowGroupCutter;
  private readonly appender: PartAppender;
  /** Parts are appended in group order, as they come back; the first failure is kept. */
  private appending: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  rowGroups = 0;

  constructor(
    readonly file: string,
    opts: WriterOptions,
    pool: EncoderPool,
  ) {
    this.fd = openSync(file, 'w');
    this.appender = new PartAppender({ fd: this.fd });
    try {
      this.cutter = new RowGroupCutter(pool, { compression: opts.compression ?? PARQUET_COMPRESSION, rowGroupSize: opts.rowGroupSize ?? PARQUET_ROW_GROUP_ROWS, file: opts.shownAs ?? file });
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  get rows(): number {
    return this.appender.rows;
  }

  async write(batch: RecordBatch, backing?: Backing): Promise<void> {
    if (this.failure) throw this.failure;
    try {
      this.append(await this.cutter.write(batch, backing));
    } catch (err) {
      throw this.failed(err);
    }
  }

  async close(): Promise<void> {
    try {
      if (this.failure) throw this.failure;
      this.append(this.cutter.finish());
      await this.appending;
      if (this.failure) throw this.failure;
      this.rowGroups = this.appender.finish();
    } finally {
      closeSync(this.fd);
    }
  }

  async abort(): Promise<void> {
    this.cutter.abort();
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }

  private append(parts: Promise<Part>[]): void {
    if (parts.length === 0) return;
    this.appending = this.appending.then(async () => {
      if (this.failure) return;
      try {
        for (const part of parts) this.appender.append(await part);
      } catch (err) {
        this.failed(err);
      }
    });
  }

  private failed(err: unknown): Error {
    this.failure ??= err instanceof SinkError ? err : new SinkError(`cannot write Parquet ${this.file}`, err);
    return this.failure;
  }
}
