/**
 * Which unit (input file) of a resumable run a batch belongs to, carried in its schema's
 * metadata where the item it travels in says another: the Parquet encoding stage ends a row
 * group at a unit's edge when the next unit's first item arrives, and the parts of that group
 * belong to the unit before (io/units/staging.ts reads the tag). Like batch/partition-tag.ts.
 */
import { RecordBatch, Schema } from 'apache-arrow';

const KEY = 'sluice.unit';

export function tagUnit(batch: RecordBatch, file: string): RecordBatch {
  const metadata = new Map(batch.schema.metadata);
  metadata.set(KEY, file);
  return new RecordBatch(new Schema(batch.schema.fields, metadata, batch.schema.dictionaries), batch.data);
}

export function unitTagOf(batch: RecordBatch): string | undefined {
  return batch.schema.metadata.get(KEY);
}
