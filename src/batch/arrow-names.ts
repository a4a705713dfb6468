/**
 * apache-arrow (21.x) writes no name for a field named `""` and reads a missing name as
 * `null`, which later becomes the column name `"null"`: a column named `""` beside one named
 * `"null"` lost its values at every hand-off (both read as one column), and polars refuses the
 * nameless field outright ("every field in IPC must have a name"). A field name is a string in
 * Arrow's schema, so here `""` is written as an empty string and a missing name read as `""`:
 * patched once per thread, before any schema is encoded or decoded (the IPC readers and
 * writers and the schema messages of batch/shared.ts all go through these two functions).
 */
import { Field } from 'apache-arrow';
import { Field as FieldTable } from 'apache-arrow/fb/field';

const PATCHED = Symbol.for('sluice.arrowEmptyNames');
const registry = globalThis as { [PATCHED]?: boolean };

if (!registry[PATCHED]) {
  registry[PATCHED] = true;
  const read = FieldTable.prototype.name as (this: FieldTable, encoding?: unknown) => string | null;
  FieldTable.prototype.name = function (this: FieldTable, encoding?: unknown) {
    return read.call(this, encoding) ?? '';
  } as typeof FieldTable.prototype.name;

  // The encoder writes a name only when it is truthy; an empty UTF-8 byte array is, and it
  // encodes as the empty string (flatbuffers' createString takes bytes as well as text).
  const statics = Field as unknown as { encode: (b: unknown, f: Field) => number };
  const encode = statics.encode;
  statics.encode = (b, f) => encode(b, f.name === '' ? Object.assign(Object.create(f) as Field, { name: new Uint8Array(0) }) : f);
}
