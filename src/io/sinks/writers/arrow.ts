/** Arrow IPC file format, batch by batch, through apache-arrow's own writer. */
import { RecordBatchFileWriter, RecordBatchWriter, type RecordBatch, type Schema, type Vector } from 'apache-arrow';
import { describeSchema, sameSchema } from '../../../batch/schema';
import { rebaseViews } from '../../../batch/views';
import { SinkError } from '../../../errors';
import { checkNestedDictionaries, dictionariesAsValues } from './dictionaries';
import { SyncFdSink } from './sync-sink';
import type { FormatWriter } from './types';
import { OutputFd } from './fd';

/**
 * apache-arrow's file writer (21.2) puts the schema only in the footer: the stream between the
 * magic bytes starts with a record batch. The format's definition has the whole streaming
 * format there, schema first, and a reader that reads the file front to back refuses it
 * ("the first IPC message of the stream must be a schema": pyarrow's `open_stream` past the
 * magic, polars' `readIPCStream`; DuckDB's nanoarrow reader did before it took schemas from
 * footers). No option of apache-arrow writes it, so after the magic this writes the schema
 * message the stream writer would; footer offsets follow, as every message goes through the
 * same `_writeMessage`. Footer readers (pyarrow, polars, apache-arrow) read it as before.
 */
class SchemaFirstFileWriter extends RecordBatchFileWriter {
  protected override _writeSchema(schema: Schema): this {
    super._writeSchema(schema); // the magic and its padding
    return (RecordBatchWriter.prototype as unknown as { _writeSchema(this: RecordBatchWriter, s: Schema): unknown })._writeSchema.call(this, schema) as this;
  }
}

export class ArrowFileWriter implements FormatWriter {
  private readonly out: OutputFd;
  private readonly sink: SyncFdSink;
  private readonly writer = new SchemaFirstFileWriter();
  private schema: Schema | undefined;
  /** The nested dictionaries the file holds (written with the first batch). */
  private readonly nested = new Map<number, Vector>();
  rows = 0;

  constructor(readonly file: string) {
    this.out = new OutputFd(file, 'w');
    this.sink = new SyncFdSink(this.out);
    this.writer.reset(this.sink);
  }

  get bytes(): number {
    return this.sink.bytes;
  }

  write(input: RecordBatch): void {
    const batch = dictionariesAsValues(input); // one dictionary per field per file: see dictionaries.ts
    checkNestedDictionaries(batch, this.nested, this.file);
    if (!this.schema) this.schema = batch.schema;
    else if (!sameSchema(this.schema, batch.schema)) {
      throw new SinkError(`batch schema ${describeSchema(batch.schema)} differs from the first batch's; every batch written to ${this.file} must have the same schema`);
    }
    this.writer.write(rebaseViews(batch));
    this.sink.flush();
    this.rows += batch.numRows;
  }

  /** Every write is flushed before it returns (write()), so the file can be let go between batches. */
  suspend(): void {
    this.out.suspend();
  }

  async close(): Promise<void> {
    this.writer.close();
    this.sink.flush();
    this.out.close();
  }

  async abort(): Promise<void> {
    try {
      this.out.close();
    } catch {
      // already closed
    }
  }
}
