/**
 * A dictionary-encoded column as its values. apache-arrow's `tableFromArrays` makes
 * Dictionary<Int32, Utf8> of every string column, each batch with a dictionary of its own.
 * polars reads such a column as Categorical, and a Categorical does not join, compare or
 * concatenate with a plain String column ("datatypes of join keys don't match"), nor with
 * the Categorical of another batch's dictionary; an Arrow IPC file holds one dictionary per
 * field. So wherever a batch leaves Arrow (for polars, for an Arrow file) its top-level
 * dictionary columns become their values: the same values in every batch and every reader,
 * memory bounded by the batch (a run-wide dictionary would hold every distinct value seen).
 * A dictionary nested in a list or struct is left as it is.
 */
import { DataType, Field, RecordBatch, Schema, Struct, Type, Utf8, makeData, makeVector, vectorFromArray, type Data, type Vector } from 'apache-arrow';
import { buildUtf8, isStringType, stringsOf } from './strings';

export function hasDictionary(schema: Schema): boolean {
  return schema.fields.some((f) => DataType.isDictionary(f.type));
}

/** `batch` with each top-level dictionary column as its values (the batch itself when it has none). */
export function dictionariesAsValues(batch: RecordBatch): RecordBatch {
  const fields = batch.schema.fields;
  if (!hasDictionary(batch.schema)) return batch;
  const columns: Data[] = [];
  const out: Field[] = [];
  fields.forEach((field, i) => {
    const column = batch.getChildAt(i)!;
    if (!DataType.isDictionary(field.type)) {
      columns.push(column.data[0]);
      out.push(field);
      return;
    }
    const values = decoded(column);
    columns.push(values.data[0]);
    out.push(new Field(field.name, values.type, field.nullable, field.metadata));
  });
  const schema = new Schema(out, batch.schema.metadata);
  return new RecordBatch(schema, makeData({ type: new Struct(out), length: batch.numRows, nullCount: 0, children: columns }));
}

function decoded(column: Vector): Vector {
  const utf8 = column.data.length === 1 ? gatheredUtf8(column.data[0]) : undefined;
  if (utf8) return utf8;
  if (isStringType(column.type)) return buildUtf8(stringsOf(column));
  // Other value types (decimals, dates, numbers) through apache-arrow's builder: rare, and exact.
  return vectorFromArray(Array.from({ length: column.length }, (_, i) => column.get(i)), column.type.dictionary);
}

/**
 * Dictionary<int, Utf8> with one dictionary chunk: each row's bytes copied from the dictionary
 * into one Utf8 buffer, no JavaScript string made (a 3-letter code column of 1 M rows in a few
 * ms). Undefined for any other layout (the general path decodes it).
 */
function gatheredUtf8(data: Data): Vector<Utf8> | undefined {
  const dictionary = data.dictionary;
  if (!dictionary || dictionary.data.length !== 1 || dictionary.type.typeId !== Type.Utf8) return undefined;
  const dict = dictionary.data[0];
  const dictOffsets = dict.valueOffsets as Int32Array;
  const dictBytes = dict.values as Uint8Array;
  // Data.slice narrows indices and offsets to the slice (`offset` applies to validity only);
  // offsets point into the whole value buffer (as batch/strings.ts reads them).
  const indices = data.values as ArrayLike<number | bigint>;
  const n = data.length;
  const valid = (i: number) => {
    const bitmap = data.nullBitmap;
    if (data.nullCount === 0 || !bitmap || bitmap.length === 0) return true;
    const bit = data.offset + i;
    return (bitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
  };
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (valid(i)) {
      const k = Number(indices[i]);
      total += dictOffsets[k + 1] - dictOffsets[k];
      if (total > 2 ** 31 - 1) return undefined; // more than one Utf8 buffer holds
    }
    offsets[i + 1] = total;
  }
  const bytes = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    if (offsets[i + 1] === offsets[i]) continue;
    const k = Number(indices[i]);
    bytes.set(dictBytes.subarray(dictOffsets[k], dictOffsets[k + 1]), offsets[i]);
  }
  const nullBitmap = data.nullCount > 0 ? validityCopy(data, valid) : undefined;
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: data.nullCount, nullBitmap, valueOffsets: offsets, data: bytes }));
}

/** The validity bitmap of `data`, starting at bit 0 (the data may be a slice). */
function validityCopy(data: Data, valid: (i: number) => boolean): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 8));
  for (let i = 0; i < data.length; i++) if (valid(i)) out[i >> 3] |= 1 << (i & 7);
  return out;
}
