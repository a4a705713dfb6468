/**
 * Parquet with bounded memory, encoded while the stream runs. nodejs-polars 0.24.1 has no
 * incremental Parquet writer, so each row group is encoded by polars as a small whole file
 * on an encoder thread (parquet-encoder.ts) and appended to this one in order; one merged
 * footer lists them all at the end (../../parquet/footer.ts). Memory: a row group per
 * encoder thread plus the encoder's few batch slots, whatever the size of the output.
 */
import { closeSync, openSync } from 'node:fs';
import type { RecordBatch } from 'apache-arrow';
import type { Backing } from '../../../batch/owned';
import { PARQUET_ROW_GROUP_ROWS } from '../../../config/defaults';
import { describeSchema, sameSchema } from '../../../batch/schema';
import { SinkError, SourceError } from '../../../errors';
import type { CsvChunk } from '../../sources/csv';
import { acquireEncoder, releaseEncoder, type ParquetEncoder } from './parquet-encoder';
import type { FormatWriter, WriterOptions } from './types';

export class ParquetWriter implements FormatWriter {
  private readonly fd: number;
  private readonly encoder: ParquetEncoder;
  private readonly id: number;
  private schema: RecordBatch['schema'] | undefined;
  private released = false;
  rows = 0;
  rowGroups = 0;

  constructor(
    readonly file: string,
    opts: WriterOptions,
  ) {
    this.fd = openSync(file, 'w');
    this.encoder = acquireEncoder();
    this.id = this.encoder.open(this.fd, { compression: opts.compression ?? 'zstd', rowGroupSize: opts.rowGroupSize ?? PARQUET_ROW_GROUP_ROWS });
  }

  async write(batch: RecordBatch, backing?: Backing): Promise<void> {
    if (!this.schema) this.schema = batch.schema;
    else if (!sameSchema(this.schema, batch.schema)) {
      throw new SinkError(`batch schema ${describeSchema(batch.schema)} differs from the first batch's; every batch written to ${this.file} must have the same schema`);
    }
    try {
      await this.encoder.write(this.id, batch, backing);
    } catch (err) {
      throw this.failure(err);
    }
    this.rows += batch.numRows;
  }

  async writeCsv(chunk: CsvChunk): Promise<void> {
    try {
      await this.encoder.writeCsv(this.id, chunk);
    } catch (err) {
      throw this.failure(err);
    }
    this.rows += chunk.rows;
  }

  async close(): Promise<void> {
    try {
      this.rowGroups = (await this.encoder.close(this.id)).rowGroups;
    } catch (err) {
      throw this.failure(err);
    } finally {
      closeSync(this.fd);
      await this.release();
    }
  }

  async abort(): Promise<void> {
    await this.encoder.abort(this.id);
    await this.release();
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }

  /** A CSV chunk that did not parse stays the source's error (file, line, column); the rest is the sink's. */
  private failure(err: unknown): Error {
    return err instanceof SourceError ? err : new SinkError(`cannot write Parquet ${this.file}`, err);
  }

  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await releaseEncoder(this.encoder);
  }
}
