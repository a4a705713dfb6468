/** polars DataFrame → Arrow record batches of at most `rows` rows, converted one slice at a time. */
import { RecordBatch, tableFromIPC } from 'apache-arrow';
import type pl from 'nodejs-polars';

export function* polarsToBatches(df: pl.DataFrame, rows: number): Generator<RecordBatch> {
  if (df.height === 0) {
    // A zero-row frame may serialise with no record batch at all; keep its schema.
    const table = tableFromIPC(df.writeIPC());
    yield table.batches[0] ?? new RecordBatch(table.schema);
    return;
  }
  for (let offset = 0; offset < df.height; offset += rows) {
    const part = df.height > rows ? df.slice(offset, rows) : df;
    // writeIPC (file format) keeps strings as Utf8View, which stages read fastest.
    yield* tableFromIPC(part.rechunk().writeIPC()).batches;
  }
}
