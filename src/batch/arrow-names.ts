/**
 * apache-arrow (21.x) writes no name for a field named `""` and reads a missing name as
 * `null`, which later turns into the column name `"null"`: a column named `""` next to one
 * named `"null"` then lost its values in every hand-off (both read as the same column).
 * A field name is a string in Arrow's schema, so a missing one is read as `""` here, once,
 * for every decoder in this thread (the IPC readers and the schema messages of batch/shared.ts).
 */
import { Field } from 'apache-arrow/fb/field';

const original = Field.prototype.name;
if (!(original as { sluiceEmptyName?: boolean }).sluiceEmptyName) {
  const name = function (this: Field, encoding?: unknown) {
    return (original as (this: Field, e?: unknown) => string | null).call(this, encoding) ?? '';
  } as typeof original & { sluiceEmptyName?: boolean };
  name.sluiceEmptyName = true;
  Field.prototype.name = name;
}
