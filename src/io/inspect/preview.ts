/**
 * The first rows of a source, kept as text while the batch's memory is still held: each
 * value as the CSV sink writes it (for a table) and as the NDJSON sink writes it (exact
 * JSON, 64-bit integers included). The batch may be a recycled slab, so nothing of it is
 * kept.
 */
import type { RecordBatch } from 'apache-arrow';
import { jsonFormatter, textFormatter } from '../../batch/text-values';

export interface PreviewRows {
  columns: string[];
  /** Each row's values as text (null for a null). */
  text: (string | null)[][];
  /** Each row's values as JSON fragments (`null` for a null). */
  json: string[][];
}

export function emptyPreview(columns: string[]): PreviewRows {
  return { columns, text: [], json: [] };
}

/** Appends up to `limit` rows of `batch` to `into`; returns how many it took. */
export function addPreviewRows(into: PreviewRows, batch: RecordBatch, limit: number): number {
  const take = Math.min(limit, batch.numRows);
  if (take <= 0) return 0;
  const columns = batch.schema.fields.map((_, c) => batch.getChildAt(c)!);
  const text = columns.map((v) => textFormatter(v));
  const json = columns.map((v) => jsonFormatter(v));
  for (let r = 0; r < take; r++) {
    into.text.push(text.map((f) => f(r)));
    into.json.push(json.map((f) => f(r) ?? 'null'));
  }
  return take;
}
