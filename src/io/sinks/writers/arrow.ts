/** Arrow IPC file format, batch by batch, through apache-arrow's own writer. */
import { RecordBatchFileWriter, RecordBatchWriter, util, type RecordBatch, type Schema, type Vector } from 'apache-arrow';
import { describeSchema } from '../../../batch/schema';
import { rebaseViews } from '../../../batch/views';
import { SinkError } from '../../../errors';
import { dictionariesAsValues } from '../../../batch/dictionaries';
import { checkNestedDictionaries } from './dictionaries';
import { nullableEverywhere } from './nullable';
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
  /** Batches written so far (the footer lists as many). */
  private batches = 0;

  constructor(readonly file: string) {
    this.out = new OutputFd(file, 'w');
    this.sink = new SyncFdSink(this.out);
    this.writer.reset(this.sink);
  }

  get bytes(): number {
    return this.sink.bytes;
  }

  write(input: RecordBatch): void {
    // One dictionary per field per file (dictionaries.ts); every field nullable (nullable.ts).
    const batch = nullableEverywhere(dictionariesAsValues(input));
    checkNestedDictionaries(batch, this.nested, this.file);
    if (!this.schema) this.schema = batch.schema;
    // apache-arrow's own comparison, the one its writer makes: a batch it sees as another
    // schema would make it close the file and drop the rest without a word (autoDestroy).
    else if (!util.compareSchemas(this.schema, batch.schema)) {
      throw new SinkError(`batch schema ${describeSchema(batch.schema)} differs from the first batch's ${describeSchema(this.schema)}; every batch written to ${this.file} must have the same schema`);
    }
    this.writer.write(rebaseViews(batch));
    this.sink.flush();
    // Rows count once the writer recorded the batch in the footer (its `_recordBatchBlocks`):
    // what the file holds, not what was handed to it; the run compares the two before commit.
    const blocks = recordedBlocks(this.writer);
    if (blocks && blocks.length !== ++this.batches) {
      throw new SinkError(`apache-arrow's writer did not write a batch of ${batch.numRows} rows to ${this.file} (schema ${describeSchema(batch.schema)})`);
    }
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

/** The footer's list of record batches apache-arrow's file writer keeps (21.x); undefined if it has none. */
function recordedBlocks(writer: RecordBatchFileWriter): unknown[] | undefined {
  const blocks = (writer as unknown as { _recordBatchBlocks?: unknown })._recordBatchBlocks;
  return Array.isArray(blocks) ? blocks : undefined;
}
