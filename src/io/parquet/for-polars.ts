/**
 * The footer as polars must see it, for every reader of a Parquet file through polars (the
 * source, the column probe, inspect): types it cannot read refused by name (support.ts), JSON
 * columns marked text (json-as-text.ts), the Arrow schema hint aligned to the Parquet types and
 * stripped of a top-level UUID's extension (arrow-hint.ts). A reader that opened the file
 * without it would let polars panic where the run refuses or reads exactly.
 */
import { alignArrowSchema } from './arrow-hint';
import { jsonAsText } from './json-as-text';
import { assertReadable } from './support';
import type { ThriftStruct } from './thrift';

/** `openParquet`'s `rewrite` for `file`: true when the footer changed. */
export function forPolars(file: string): (meta: ThriftStruct) => boolean {
  return (meta) => {
    // Checked before the hint is aligned: a hint polars cannot read is refused by its own name.
    assertReadable(meta, file);
    const json = jsonAsText(meta);
    return alignArrowSchema(meta, file) || json;
  };
}
