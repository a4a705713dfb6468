/**
 * A Parquet JSON column (BYTE_ARRAY with the JSON logical type, as DuckDB writes its JSON
 * type) is UTF-8 text by the format's definition, and pyarrow reads it as text; polars 0.24.1
 * reads it as binary, so sinks wrote the JSON as base64. Before polars sees the file, such a
 * column is marked STRING instead (the footer only: the bytes are the same), and is read as
 * the text it holds.
 */
import { T, field, type ThriftList, type ThriftStruct } from './thrift';

const FILE = { schema: 2 } as const;
const ELEMENT = { type: 1, converted: 6, logical: 10 } as const;
const BYTE_ARRAY = 6n;
const CONVERTED = { utf8: 0n, json: 19n } as const;
const LOGICAL = { string: 1, json: 12 } as const;

/** Marks the footer's JSON columns STRING (in place); true if there were any. */
export function jsonAsText(meta: ThriftStruct): boolean {
  const elements = ((field(meta, FILE.schema)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
  let changed = false;
  for (const el of elements) {
    if (field(el, ELEMENT.type)?.value !== BYTE_ARRAY) continue;
    const logical = field(el, ELEMENT.logical)?.value as ThriftStruct | undefined;
    const converted = field(el, ELEMENT.converted);
    const isJson = logical?.fields[0]?.id === LOGICAL.json || converted?.value === CONVERTED.json;
    if (!isJson) continue;
    if (logical) logical.fields = [{ id: LOGICAL.string, type: T.STRUCT, value: { kind: 'struct', fields: [] } }];
    if (converted) converted.value = CONVERTED.utf8;
    changed = true;
  }
  return changed;
}
