/**
 * The Arrow sink writes every field nullable, at every depth. A file holds one schema, and
 * stage batches often differ only in the flag: `ctx.table` marks columns nullable, a polars
 * frame or a hand-built Field may not, and a list's item field differs between builders.
 * apache-arrow's writer sees such a batch as another schema and, with its default
 * `autoDestroy`, silently closes the file: the rest of the run's rows were dropped and the run
 * exited 0. Nullable is what every reader accepts for any batch, so it is the one schema
 * (as Parquet, where polars writes every column optional). Only the schema changes: the
 * buffers (validity bitmaps included) are the same.
 */
import { DataType, FixedSizeList, Field, LargeList, List, Map_, RecordBatch, Schema, Struct, Union, type Data } from 'apache-arrow';

/** `batch` with every field nullable, at every depth (the batch itself when it already is). */
export function nullableEverywhere(batch: RecordBatch): RecordBatch {
  if (batch.schema.fields.every(allNullable)) return batch;
  const fields = batch.schema.fields.map(relaxField);
  const schema = new Schema(fields, batch.schema.metadata);
  return new RecordBatch(schema, relaxData(batch.data, new Struct(fields)) as Data<Struct>);
}

function allNullable(field: Field): boolean {
  return field.nullable && (field.type.children ?? []).every(allNullable);
}

function relaxField(field: Field): Field {
  return field.nullable && allNullable(field) ? field : new Field(field.name, relaxType(field.type), true, field.metadata);
}

function relaxType(type: DataType): DataType {
  const children = type.children as Field[] | undefined;
  if (!children?.length || children.every(allNullable)) return type;
  const relaxed = children.map(relaxField);
  if (DataType.isList(type)) return new List(relaxed[0]);
  if (DataType.isLargeList(type)) return new LargeList(relaxed[0]);
  if (DataType.isFixedSizeList(type)) return new FixedSizeList(type.listSize, relaxed[0]);
  if (DataType.isStruct(type)) return new Struct(relaxed);
  if (DataType.isMap(type)) return new Map_(relaxed[0] as Field<Struct>, type.keysSorted);
  if (DataType.isUnion(type)) return new Union(type.mode, [...type.typeIds], relaxed);
  return type;
}

/** The same buffers under the relaxed type, children too (the writer walks data, not the schema). */
function relaxData(data: Data, type: DataType): Data {
  if (type === data.type) return data;
  const childTypes = (type.children as Field[] | undefined) ?? [];
  const children = data.children.map((child, i) => (childTypes[i] ? relaxData(child, childTypes[i].type) : child));
  return data.clone(type, data.offset, data.length, data.nullCount, undefined, children);
}
