/**
 * A cluster unit numbers its batches from 0 (it reads one input file alone); an uninterrupted
 * run numbers them across every file. The commit job shifts the `batch` column of a unit's
 * dead-lettered rows (runtime/rejects.ts: the dead-letter schema) by the batches the units
 * before it read, so the dead-letter output says what an embedded run's says.
 */
import { Int64, RecordBatch, Table, vectorFromArray, type Vector } from 'apache-arrow';

export function shiftBatchNumbers(batch: RecordBatch, by: number): RecordBatch {
  const column = batch.getChild('batch');
  if (by === 0 || column === null) return batch;
  const shifted = vectorFromArray(
    Array.from({ length: batch.numRows }, (_, i) => {
      const v = column.get(i) as bigint | number | null;
      return v === null ? null : BigInt(v) + BigInt(by);
    }),
    new Int64(),
  );
  const columns: Record<string, Vector> = {};
  for (const field of batch.schema.fields) columns[field.name] = field.name === 'batch' ? shifted : batch.getChild(field.name)!;
  const [out] = new Table(columns).batches;
  return out ?? batch;
}
