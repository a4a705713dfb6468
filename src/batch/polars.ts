/**
 * polars ⇄ Arrow. Both sides speak Arrow IPC, so a conversion is one serialisation;
 * apache-arrow reads the IPC bytes as views (no second copy).
 */
import { RecordBatch, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import pl from 'nodejs-polars';

export function batchToDataFrame(batch: RecordBatch): pl.DataFrame {
  return pl.readIPCStream(Buffer.from(tableToIPC(new Table(batch), 'stream')));
}

export function dataFrameToBatches(df: pl.DataFrame): RecordBatch[] {
  return tableFromIPC(df.writeIPCStream()).batches;
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
