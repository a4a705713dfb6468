/**
 * polars ⇄ Arrow. Both sides speak Arrow IPC, so a conversion is one serialisation;
 * apache-arrow reads the IPC bytes as views (no second copy).
 */
import { type RecordBatch, tableFromIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { encodeBatches } from './ipc';

/** Conversions so far in this thread: a task that made none left no polars frames of ours behind. */
export const conversions = { count: 0 };

/** Where a batch's IPC bytes are gathered for polars, reused (polars copies them in). */
let scratch = Buffer.allocUnsafe(0);

export function batchToDataFrame(batch: RecordBatch): pl.DataFrame {
  conversions.count++;
  // The writer's chunk list (views of the batch) gathered once into warm memory: no
  // concatenated copy from apache-arrow's writer, no fresh allocation per batch.
  const { chunks, byteLength } = encodeBatches([batch]);
  if (scratch.length < byteLength) scratch = Buffer.allocUnsafe(Math.ceil(byteLength * 1.25));
  let at = 0;
  for (const chunk of chunks) {
    scratch.set(chunk, at);
    at += chunk.byteLength;
  }
  return pl.readIPCStream(scratch.subarray(0, byteLength));
}

export function dataFrameToBatches(df: pl.DataFrame): RecordBatch[] {
  conversions.count++;
  // The IPC file format keeps strings as Utf8View: cheaper to write, fastest to read.
  return tableFromIPC(df.writeIPC()).batches;
}

/** polars DataFrames are native objects; duck-type them so two copies of the module agree. */
export function isDataFrame(value: unknown): value is pl.DataFrame {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { writeIPCStream?: unknown }).writeIPCStream === 'function' &&
    typeof (value as { height?: unknown }).height === 'number'
  );
}
