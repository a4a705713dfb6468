/** Arrow IPC file format, batch by batch, through apache-arrow's own writer. */
import { closeSync, openSync } from 'node:fs';
import { RecordBatchFileWriter, type RecordBatch, type Schema } from 'apache-arrow';
import { describeSchema, sameSchema } from '../../../batch/schema';
import { rebaseViews } from '../../../batch/views';
import { SinkError } from '../../../errors';
import { SyncFdSink } from './sync-sink';
import type { FormatWriter } from './types';

export class ArrowFileWriter implements FormatWriter {
  private readonly fd: number;
  private readonly sink: SyncFdSink;
  private readonly writer = new RecordBatchFileWriter();
  private schema: Schema | undefined;
  rows = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'w');
    this.sink = new SyncFdSink(this.fd);
    this.writer.reset(this.sink);
  }

  get bytes(): number {
    return this.sink.bytes;
  }

  write(batch: RecordBatch): void {
    if (!this.schema) this.schema = batch.schema;
    else if (!sameSchema(this.schema, batch.schema)) {
      throw new SinkError(`batch schema ${describeSchema(batch.schema)} differs from the first batch's; every batch written to ${this.file} must have the same schema`);
    }
    this.writer.write(rebaseViews(batch));
    this.sink.flush();
    this.rows += batch.numRows;
  }

  async close(): Promise<void> {
    this.writer.close();
    this.sink.flush();
    closeSync(this.fd);
  }

  async abort(): Promise<void> {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}
