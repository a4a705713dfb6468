/**
 * One Parquet output's row groups: batches are cut at exact `rowGroupSize` boundaries (the
 * slices are views, nothing is copied) and each group goes to the pool; the parts come back
 * as promises in group order, which is the order they must be appended in.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Backing } from '../../../batch/owned';
import { describeSchema, sameSchema } from '../../../batch/schema';
import { SinkError } from '../../../errors';
import { PARQUET_MAX_ROW_GROUP_ROWS } from '../../../defaults';
import type { EncoderPool, OpenGroup, Part } from './pool';

export class RowGroupCutter {
  private group: OpenGroup | undefined;
  /** The first batch's schema: every later batch must have it (one Parquet schema per file). */
  private schema: RecordBatch['schema'] | undefined;
  private groupRows = 0;
  /** Groups ended (by a full group, or early by the pool's budget) whose parts the caller has not taken. */
  private ended: Promise<Part>[] = [];
  /** Groups ended so far, taken or not. */
  private groups = 0;

  constructor(
    private readonly pool: EncoderPool,
    private readonly opts: { rowGroupSize: number; compression: string; file: string },
  ) {
    if (opts.rowGroupSize > PARQUET_MAX_ROW_GROUP_ROWS) {
      throw new Error(`rowGroupSize ${opts.rowGroupSize} is above ${PARQUET_MAX_ROW_GROUP_ROWS}, the most polars 0.24.1 writes as one row group`);
    }
  }

  /**
   * Sends the batch's rows to their groups; resolves once the pool holds them (the batch's
   * memory is free again) with the parts of every group ended since the last call, in order.
   */
  async write(batch: RecordBatch, backing?: Backing): Promise<Promise<Part>[]> {
    if (!this.schema) this.schema = batch.schema;
    else if (!sameSchema(this.schema, batch.schema)) {
      throw new SinkError(`batch schema ${describeSchema(batch.schema)} differs from the first batch's ${describeSchema(this.schema)}; every batch written to ${this.opts.file} must have the same schema`);
    }
    let offset = 0;
    do {
      const take = Math.min(this.opts.rowGroupSize - this.groupRows, batch.numRows - offset);
      const whole = offset === 0 && take === batch.numRows;
      const group = (this.group ??= this.pool.open(() => this.endGroup(false)));
      this.groupRows += take;
      await this.pool.add(group, whole ? batch : batch.slice(offset, offset + take), whole ? backing : undefined);
      offset += take;
      if (this.groupRows >= this.opts.rowGroupSize) this.endGroup(false);
    } while (offset < batch.numRows);
    return this.take();
  }

  /**
   * Ends the open group; returns every part not yet taken. An output without any group gets
   * one whole file with the schema of the batches it saw (or none).
   */
  finish(): Promise<Part>[] {
    if (this.group || this.groups === 0) this.endGroup(this.groups === 0);
    return this.take();
  }

  /** Ends the open group, if it has rows (a resumable run's unit ends here); returns every part not yet taken. */
  cut(): Promise<Part>[] {
    if (this.group && this.groupRows > 0) this.endGroup(false);
    return this.take();
  }

  /** Forgets the open group (the output is aborted). */
  abort(): void {
    if (this.group) this.pool.drop(this.group);
    this.group = undefined;
    this.ended = [];
  }

  private endGroup(orEmpty: boolean): void {
    const group = this.group ?? this.pool.open(() => undefined);
    this.group = undefined;
    this.groupRows = 0;
    this.groups++;
    this.ended.push(this.pool.end(group, this.opts.compression, orEmpty));
  }

  private take(): Promise<Part>[] {
    const parts = this.ended;
    this.ended = [];
    return parts;
  }
}
