/**
 * Parquet column types polars 0.24.1 cannot read, found from the footer before polars sees
 * the file: on these it panics and aborts the whole process (exit 134, temp files left),
 * which no try/catch can turn into an error. Each was reproduced (test/fixtures/data/):
 * INTERVAL; a MAP group without the MAP logical type (DuckDB, older Spark); decimals beyond
 * 38 digits; and, in the Arrow schema writers store beside the Parquet one
 * (`ARROW:schema`), extension types (uuid, json, bool8, …), 32/64/256-bit decimals and
 * types apache-arrow cannot even decode (list views).
 */
import { DataType, MessageReader, type Field as ArrowField } from 'apache-arrow';
import { SourceError } from '../../errors';
import { field, type ThriftList, type ThriftStruct } from './thrift';

const FILE = { schema: 2, keyValue: 5 } as const;
const ELEMENT = { name: 4, children: 5, converted: 6, precision: 8, logical: 10 } as const;
const CONVERTED = { map: 1, mapKeyValue: 2, interval: 21 } as const;
const LOGICAL = { map: 2, decimal: 5, uuid: 14, float16: 15 } as const;

const text = (v: unknown) => Buffer.from(v as Uint8Array).toString('utf8');
const num = (s: ThriftStruct, id: number): number | undefined => {
  const v = field(s, id)?.value;
  return typeof v === 'bigint' ? Number(v) : undefined;
};

/** Throws a SourceError naming the file and column if polars cannot read a column of this footer. */
export function assertReadable(meta: ThriftStruct, file: string): void {
  const elements = ((field(meta, FILE.schema)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
  const refuse = (column: string, why: string, fix?: string) => {
    throw new SourceError(fix ? `column "${column}" is ${why}; ${fix}` : `column "${column}" is ${why}, which polars 0.24.1 cannot read; convert it (e.g. to text or a struct) before reading it with sluice`, { file });
  };
  const hinted = arrowSchemaOf(meta) !== undefined;
  // Depth-first over the flattened schema tree: each element says how many children follow.
  let i = 1;
  const walk = (prefix: string): void => {
    const el = elements[i++];
    const name = prefix + text(field(el, ELEMENT.name)?.value);
    const converted = num(el, ELEMENT.converted);
    const logical = field(el, ELEMENT.logical)?.value as ThriftStruct | undefined;
    const logicalKind = logical?.fields[0]?.id;
    if (converted === CONVERTED.interval) refuse(name, 'an INTERVAL');
    if ((converted === CONVERTED.map || converted === CONVERTED.mapKeyValue) && logicalKind !== LOGICAL.map) refuse(name, 'a MAP without the MAP logical type (as DuckDB writes it)');
    const precision = logicalKind === LOGICAL.decimal ? num(logical!.fields[0].value as ThriftStruct, 2) : num(el, ELEMENT.precision);
    if (precision !== undefined && precision > 38) refuse(name, `a decimal of ${precision} digits (more than 38)`);
    // polars reads both as bare bytes: a FLOAT16 without the Arrow schema's hint would reach
    // sinks as two bytes, not a number; a UUID is read as its text at the top level only (uuid.ts).
    if (logicalKind === LOGICAL.float16 && !hinted) refuse(name, 'a FLOAT16 (half precision) with no Arrow schema (ARROW:schema) beside it, which polars 0.24.1 then reads as bare bytes', 'cast it to float32, or write the file with its Arrow schema (pyarrow: store_schema=True, the default)');
    if (logicalKind === LOGICAL.uuid && prefix !== '') refuse(name, 'a UUID inside a list or struct, which polars 0.24.1 reads as bare bytes (a top-level UUID column is read as its text)', 'cast it to text (or make it a top-level column) before reading it with sluice');
    const children = num(el, ELEMENT.children) ?? 0;
    for (let c = 0; c < children && i < elements.length; c++) walk(`${name}.`);
  };
  while (i < elements.length) walk('');
  assertArrowSchemaReadable(meta, file, refuse);
}

/** The footer's ARROW:schema value (base64 of an IPC schema message), if a writer stored one. */
function arrowSchemaOf(meta: ThriftStruct): unknown {
  const entries = ((field(meta, FILE.keyValue)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
  const entry = entries.find((e) => text(field(e, 1)?.value) === 'ARROW:schema');
  return entry && field(entry, 2)?.value;
}

function assertArrowSchemaReadable(meta: ThriftStruct, file: string, refuse: (column: string, why: string) => never): void {
  const value = arrowSchemaOf(meta);
  if (!value) return;
  let fields: ArrowField[];
  try {
    fields = new MessageReader(Buffer.from(text(value), 'base64')).readSchema()?.fields ?? [];
  } catch (err) {
    throw new SourceError(`its Arrow schema (ARROW:schema) holds a type polars 0.24.1 cannot read (${(err as Error).message})`, { file }, err);
  }
  const walk = (f: ArrowField, prefix: string): void => {
    const name = prefix + f.name;
    const extension = f.metadata.get('ARROW:extension:name');
    // A top-level UUID: the hint loses its extension (arrow-hint.ts), the column is read as text (uuid.ts).
    if (extension && !(extension === 'arrow.uuid' && prefix === '')) refuse(name, `of the Arrow extension type ${extension}`);
    if (DataType.isDecimal(f.type) && f.type.bitWidth !== 128) refuse(name, `a ${f.type.bitWidth}-bit decimal`);
    for (const child of f.type.children ?? []) walk(child, `${name}.`);
  };
  for (const f of fields) walk(f, '');
}
