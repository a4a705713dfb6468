/**
 * The Arrow schema a writer stores beside the Parquet one (`ARROW:schema`) is a hint polars
 * follows, and for two types it follows it into wrong values: Parquet has no time32[s] and no
 * date64, so pyarrow stores time32[s] as TIME(MILLIS) (1 s as 1000) and date64 as DATE (days),
 * yet polars 0.24.1 takes the stored integers in the hint's unit: 1 s became 00:16:40 and
 * 3600 s null; a date became a datetime. pyarrow reads both as the Parquet type says
 * (time32[ms], date32), and so does sluice: before polars sees the file, each time and date
 * field of the hint is set to the type of the Parquet column it describes. A hint that says
 * time or date over a Parquet column that is neither is refused (its unit cannot be known).
 * Files whose hint needs no change keep their footer byte for byte.
 */
import {
  DataType, DateDay, Dictionary, Field, FixedSizeList, LargeList, List, Map_, MessageReader, Schema, Struct,
  TimeMicrosecond, TimeMillisecond, TimeNanosecond, TimeUnit, Type,
} from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { SourceError } from '../../errors';
import { T, field, type ThriftList, type ThriftStruct } from './thrift';

const FILE = { schema: 2, keyValue: 5 } as const;
const ELEMENT = { type: 1, name: 4, children: 5, converted: 6, logical: 10 } as const;
const CONVERTED = { date: 6, timeMillis: 7, timeMicros: 8 } as const;
const LOGICAL = { date: 6, time: 7 } as const;
/** Parquet's TimeUnit union: MILLIS, MICROS, NANOS. */
const TIME_UNIT = { 1: TimeUnit.MILLISECOND, 2: TimeUnit.MICROSECOND, 3: TimeUnit.NANOSECOND } as Record<number, TimeUnit>;

interface Node {
  el: ThriftStruct;
  name: string;
  children: Node[];
}

const text = (v: unknown) => Buffer.from(v as Uint8Array).toString('utf8');
const num = (s: ThriftStruct, id: number): number | undefined => {
  const v = field(s, id)?.value;
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined;
};

/** The flattened Parquet schema as a tree (each element says how many children follow). */
function tree(meta: ThriftStruct): Node[] {
  const elements = ((field(meta, FILE.schema)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
  let i = 0;
  const take = (): Node => {
    const el = elements[i++];
    const node: Node = { el, name: text(field(el, ELEMENT.name)?.value), children: [] };
    const count = num(el, ELEMENT.children) ?? 0;
    for (let c = 0; c < count && i < elements.length; c++) node.children.push(take());
    return node;
  };
  return elements.length ? take().children : [];
}

/** The Parquet TIME unit of a leaf, or undefined if it is not a TIME. */
function parquetTimeUnit(el: ThriftStruct): TimeUnit | undefined {
  const logical = field(el, ELEMENT.logical)?.value as ThriftStruct | undefined;
  const kind = logical?.fields[0];
  if (kind?.id === LOGICAL.time) {
    const unit = (field(kind.value as ThriftStruct, 2)?.value as ThriftStruct | undefined)?.fields[0]?.id;
    return unit === undefined ? undefined : TIME_UNIT[unit];
  }
  const converted = num(el, ELEMENT.converted);
  return converted === CONVERTED.timeMillis ? TimeUnit.MILLISECOND : converted === CONVERTED.timeMicros ? TimeUnit.MICROSECOND : undefined;
}

function isParquetDate(el: ThriftStruct): boolean {
  const logical = field(el, ELEMENT.logical)?.value as ThriftStruct | undefined;
  return logical?.fields[0]?.id === LOGICAL.date || num(el, ELEMENT.converted) === CONVERTED.date;
}

const UNIT_NAMES = ['s', 'ms', 'us', 'ns'];
const TIME_TYPES: Partial<Record<TimeUnit, () => DataType>> = {
  [TimeUnit.MILLISECOND]: () => new TimeMillisecond(),
  [TimeUnit.MICROSECOND]: () => new TimeMicrosecond(),
  [TimeUnit.NANOSECOND]: () => new TimeNanosecond(),
};

/** The element node of a list's Parquet group: three levels (group, repeated group, element) or the legacy two. */
function listElement(node: Node): Node | undefined {
  const repeated = node.children[0];
  if (!repeated) return undefined;
  const threeLevel = repeated.children.length === 1 && repeated.name !== 'array' && repeated.name !== `${node.name}_tuple`;
  return threeLevel ? repeated.children[0] : repeated;
}

/**
 * `type` with every time and date in it set to its Parquet column's type (the same object
 * when nothing changed). `refuse` names the column.
 */
function align(type: DataType, node: Node | undefined, column: string, refuse: (column: string, why: string) => never): DataType {
  if (!node) return type;
  switch (type.typeId) {
    case Type.Time: {
      const unit = node.children.length ? undefined : parquetTimeUnit(node.el);
      const hinted = (type as unknown as { unit: TimeUnit }).unit;
      if (unit === undefined) refuse(column, `time${(type as unknown as { bitWidth: number }).bitWidth}[${UNIT_NAMES[hinted]}] in its Arrow schema (ARROW:schema) but not a TIME in Parquet, so its unit is unknown`);
      return unit === hinted ? type : TIME_TYPES[unit]!();
    }
    case Type.Date: {
      if (node.children.length || !isParquetDate(node.el)) refuse(column, 'a date in its Arrow schema (ARROW:schema) but not a DATE in Parquet');
      return DataType.isDate(type) && (type as DateDay).unit === 0 ? type : new DateDay();
    }
    case Type.Dictionary: {
      const d = type as Dictionary;
      const values = align(d.dictionary, node, column, refuse);
      return values === d.dictionary ? type : new Dictionary(values, d.indices, d.id, d.isOrdered);
    }
    case Type.Struct: {
      const fields = type.children.map((f, k) => alignField(f, node.children[k], `${column}.`, refuse));
      return fields.every((f, k) => f === type.children[k]) ? type : new Struct(fields);
    }
    case Type.Map: {
      const entries = alignField(type.children[0], node.children[0], `${column}.`, refuse);
      return entries === type.children[0] ? type : new Map_(entries, (type as Map_).keysSorted);
    }
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const child = type.children[0];
      const item = alignField(child, listElement(node), `${column}.`, refuse);
      if (item === child) return type;
      if (type.typeId === Type.List) return new List(item);
      if (type.typeId === Type.LargeList) return new LargeList(item);
      return new FixedSizeList((type as FixedSizeList).listSize, item);
    }
    default:
      return type;
  }
}

/**
 * A top-level arrow.uuid field (pyarrow ≥ 15) as its storage, FixedSizeBinary(16): polars cannot
 * read the extension, and reads the column as bytes that uuid.ts turns into the UUID's text.
 */
function withoutUuidExtension(f: Field): Field {
  if (f.metadata.get('ARROW:extension:name') !== 'arrow.uuid') return f;
  const metadata = new Map([...f.metadata].filter(([k]) => !k.startsWith('ARROW:extension:')));
  return new Field(f.name, f.type, f.nullable, metadata);
}

function alignField(f: Field, node: Node | undefined, prefix: string, refuse: (column: string, why: string) => never): Field {
  const type = align(f.type, node, prefix + f.name, refuse);
  return type === f.type ? f : new Field(f.name, type, f.nullable, f.metadata);
}

/**
 * Sets the times and dates of the footer's ARROW:schema to what its Parquet columns store
 * (in place; the caller re-encodes the footer). Throws a SourceError naming file and column
 * for a time or date hint over a Parquet column of another type. A hint apache-arrow cannot
 * decode is left alone (support.ts refuses it).
 */
export function alignArrowSchema(meta: ThriftStruct, file: string): boolean {
  const entries = ((field(meta, FILE.keyValue)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
  const entry = entries.find((e) => text(field(e, 1)?.value) === 'ARROW:schema');
  const value = entry && field(entry, 2);
  if (!value) return false;
  let schema: Schema;
  try {
    const read = new MessageReader(Buffer.from(text(value.value), 'base64')).readSchema();
    if (!read) return false;
    schema = read;
  } catch {
    return false;
  }
  const refuse = (column: string, why: string): never => {
    throw new SourceError(`column "${column}" is ${why}; sluice will not guess it: write it as a Parquet TIME/DATE (pyarrow does) or as text`, { file });
  };
  const columns = tree(meta);
  const fields = schema.fields.map((f) => alignField(withoutUuidExtension(f), columns.find((c) => c.name === f.name), '', refuse));
  if (fields.every((f, k) => f === schema.fields[k])) return false;
  const aligned = new Schema(fields, schema.metadata);
  // As writers store it: an IPC message with its continuation marker and length, 8-byte padded.
  let body: Uint8Array;
  try {
    body = Message.encode(Message.from(aligned));
  } catch (err) {
    throw new SourceError(`its Arrow schema (ARROW:schema) has a time or date polars would misread, and apache-arrow cannot rewrite that schema (${(err as Error).message}); write the file without it (pyarrow: store_schema=False)`, { file }, err);
  }
  const framed = Buffer.alloc(8 + Math.ceil(body.length / 8) * 8);
  framed.writeInt32LE(-1, 0);
  framed.writeInt32LE(framed.length - 8, 4);
  framed.set(body, 8);
  value.value = Buffer.from(framed.toString('base64'), 'utf8');
  value.type = T.BINARY;
  return true;
}
