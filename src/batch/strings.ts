/**
 * Fast string access for stages. Placeholder semantics: decodes via the vector's own
 * accessor; replaced by the view-aware fast path (see issue on streaming I/O).
 */
import type { RecordBatch } from 'apache-arrow';

export function readStrings(batch: RecordBatch, column: string): (string | null)[] {
  const vector = batch.getChild(column);
  if (!vector) throw new Error(`no column "${column}" in batch (columns: ${batch.schema.fields.map((f) => f.name).join(', ')})`);
  const out = new Array<string | null>(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const v = vector.get(i);
    out[i] = v === null || v === undefined ? null : String(v);
  }
  return out;
}
