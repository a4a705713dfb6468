/**
 * A Parquet UUID column (FIXED_LEN_BYTE_ARRAY(16) with the UUID logical type, as DuckDB and
 * pyarrow write it) is read by polars 0.24.1 as binary: sinks wrote base64 of the 16 bytes, no
 * reader's idea of the UUID. sluice reads it as the UUID's canonical text (RFC 9562: lowercase
 * hex, 8-4-4-4-12), what DuckDB and pyarrow show, exact and reversible. Only a column at the top
 * level: a UUID inside a list or struct is refused by name (support.ts).
 */
import { tableFromIPC } from 'apache-arrow';
import type pl from 'nodejs-polars';
import { polars } from '../../batch/lazy-polars';
import { SourceError } from '../../errors';
import { field, type ThriftList, type ThriftStruct } from './thrift';

const FILE = { schema: 2 } as const;
const ELEMENT = { name: 4, children: 5, logical: 10 } as const;
/** The UUID member of Parquet's LogicalType union. */
export const LOGICAL_UUID = 14;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The top-level columns of the footer whose logical type is UUID. */
export function uuidColumns(meta: ThriftStruct): string[] {
  const elements = ((field(meta, FILE.schema)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
  const names: string[] = [];
  // Depth-first: each element says how many children follow; top level is the root's children.
  const skip = (at: number): number => {
    const children = Number((field(elements[at], ELEMENT.children)?.value as bigint | undefined) ?? 0n);
    let next = at + 1;
    for (let c = 0; c < children; c++) next = skip(next);
    return next;
  };
  for (let at = 1; at < elements.length; at = skip(at)) {
    const logical = field(elements[at], ELEMENT.logical)?.value as ThriftStruct | undefined;
    if (logical?.fields[0]?.id === LOGICAL_UUID) names.push(Buffer.from(field(elements[at], ELEMENT.name)?.value as Uint8Array).toString('utf8'));
  }
  return names;
}

/** 16 bytes as 8-4-4-4-12 lowercase hex. */
export function uuidText(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += (i === 4 || i === 6 || i === 8 || i === 10 ? '-' : '') + HEX[b[i]];
  return s;
}

/** The frame with each of `columns` (present in it) as UUID text, in place of its 16 bytes. */
export function uuidsAsText(df: pl.DataFrame, columns: string[], file: string): pl.DataFrame {
  const present = columns.filter((c) => df.columns.includes(c));
  if (!present.length) return df;
  // Through Arrow: nodejs-polars has no binary functions (and cannot even describe the type).
  const table = tableFromIPC(df.select(...present).writeIPCStream());
  return df.withColumns(
    ...present.map((name) => {
      const values = table.getChild(name)!;
      const text: (string | null)[] = new Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const b = values.get(i) as Uint8Array | null;
        if (b !== null && b.length !== 16) throw new SourceError(`column "${name}" has the UUID type but a value of ${b.length} bytes (a UUID is 16); the file is damaged`, { file });
        text[i] = b === null ? null : uuidText(b);
      }
      return polars().Series(name, text, polars().Utf8);
    }),
  );
}
