/**
 * polars 0.24.1 reads a null Arrow map as an empty list ([] where the value was null), in
 * the Parquet encoder and in a stage's DataFrame alike, and it has no map type anyway: it
 * reads a map as the list of its {key, value} entries. So a batch is handed to polars with
 * each map (at any depth) retyped as exactly that list; same buffers, validity kept, no copy.
 */
import { DataType, Field, FixedSizeList, LargeList, List, RecordBatch, Schema, Struct, Type, makeData, type Data } from 'apache-arrow';

/** `type` with every map in it as a list of its entries (the same object when there is none). */
function listType(type: DataType): DataType {
  switch (type.typeId) {
    case Type.Map: {
      const entries = type.children[0];
      return new List(new Field(entries.name, listType(entries.type), entries.nullable, entries.metadata));
    }
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList:
    case Type.Struct: {
      const fields = type.children.map((f) => {
        const t = listType(f.type);
        return t === f.type ? f : new Field(f.name, t, f.nullable, f.metadata);
      });
      if (fields.every((f, k) => f === type.children[k])) return type;
      if (type.typeId === Type.List) return new List(fields[0]);
      if (type.typeId === Type.LargeList) return new LargeList(fields[0]);
      if (type.typeId === Type.FixedSizeList) return new FixedSizeList((type as FixedSizeList).listSize, fields[0]);
      return new Struct(fields);
    }
    default:
      return type;
  }
}

/** `data` under `type` (listType of its own type), children retyped alike. */
function retype(data: Data, type: DataType): Data {
  if (type === data.type) return data;
  const children = data.children.map((c, k) => retype(c, type.children[k].type));
  return makeData({
    type,
    offset: data.offset,
    length: data.length,
    nullCount: data.nullCount,
    nullBitmap: data.nullBitmap,
    valueOffsets: data.valueOffsets,
    ...(DataType.isStruct(type) ? { children } : { child: children[0] }),
  } as never);
}

export function hasMap(schema: Schema): boolean {
  return schema.fields.some((f) => listType(f.type) !== f.type);
}

/** The batch with its maps as lists of entries; the same batch when it has none. */
export function mapsAsLists(batch: RecordBatch): RecordBatch {
  if (!hasMap(batch.schema)) return batch;
  const fields = batch.schema.fields.map((f) => new Field(f.name, listType(f.type), f.nullable, f.metadata));
  const struct = new Struct(fields);
  const data = makeData({ type: struct, length: batch.numRows, nullCount: 0, children: batch.data.children.map((c, k) => retype(c, fields[k].type)) });
  return new RecordBatch(new Schema(fields, batch.schema.metadata), data);
}
