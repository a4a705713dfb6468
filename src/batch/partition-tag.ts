/**
 * Which output partition a batch belongs to (`day=2026-11-24/country=FR`, relative to the
 * output's root), carried in its schema's metadata: the partitioning stage tags the rows it
 * routes, the Parquet encoding stage tags the parts it encodes from them, and the sink writes
 * each to its partition's file. The value carries it, so nothing on the way needs a side table.
 */
import { RecordBatch, Schema } from 'apache-arrow';

const KEY = 'sluice.partition';

/** The tag of rows written at the output's root, outside any partition: an output without rows (its columns only). */
export const ROOT_PARTITION = '';

export function tagPartition(batch: RecordBatch, partition: string): RecordBatch {
  const metadata = new Map(batch.schema.metadata);
  metadata.set(KEY, partition);
  return new RecordBatch(new Schema(batch.schema.fields, metadata, batch.schema.dictionaries), batch.data);
}

/** The batch's partition, or undefined for a batch not routed to one. */
export function partitionOf(batch: RecordBatch): string | undefined {
  return batch.schema.metadata.get(KEY);
}
