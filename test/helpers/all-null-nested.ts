/**
 * Nested columns null in every row, built as polars builds them: a list's child of no rows
 * (empty value buffers, not missing ones), a dictionary of no values, a struct whose children
 * hold only nulls. Each nested kind sluice carries is here: list, large list, fixed-size list,
 * struct, map, dictionary, and a list of structs. Row 2 of `withValues` has values, for a
 * batch that follows.
 */
import {
  DataType, Dictionary, Field, FixedSizeList, Int32, LargeList, List, Map_, RecordBatch, Struct, Table, Utf8, makeData, makeVector, vectorFromArray,
  type Data, type Vector,
} from 'apache-arrow';

const ROWS = 3;
const nullBitmap = () => new Uint8Array(1); // every row null

/** An empty child of `type`: no rows, value buffers of 0 bytes (apache-arrow's builders pad them to 64). */
function empty(type: DataType): Data {
  if (DataType.isStruct(type)) return makeData({ type, length: 0, children: type.children.map((f) => empty(f.type)) });
  if (DataType.isUtf8(type)) return makeData({ type, length: 0, valueOffsets: new Int32Array(1), data: new Uint8Array(0) });
  if (DataType.isInt(type)) return makeData({ type, length: 0, data: new Int32Array(0) } as never);
  throw new Error(`no empty child of ${String(type)} here`);
}

const item = (type: DataType, name = 'item') => new Field(name, type, true);

export const ALL_NULL_KINDS = ['list', 'large_list', 'large_list_utf8', 'fixed_list', 'struct', 'map', 'dict', 'list_struct'] as const;

export function allNullNestedBatch(): RecordBatch {
  const entries = new Struct([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]);
  const structType = new Struct([item(new Int32(), 'a'), item(new Utf8(), 'b')]);
  const columns: Record<(typeof ALL_NULL_KINDS)[number], Vector> = {
    list: makeVector(makeData({ type: new List(item(new Int32())), length: ROWS, nullCount: ROWS, nullBitmap: nullBitmap(), valueOffsets: new Int32Array(ROWS + 1), child: empty(new Int32()) })),
    large_list: makeVector(makeData({ type: new LargeList(item(new Int32())), length: ROWS, nullCount: ROWS, nullBitmap: nullBitmap(), valueOffsets: new BigInt64Array(ROWS + 1), child: empty(new Int32()) } as never)),
    large_list_utf8: makeVector(makeData({ type: new LargeList(item(new Utf8())), length: ROWS, nullCount: ROWS, nullBitmap: nullBitmap(), valueOffsets: new BigInt64Array(ROWS + 1), child: empty(new Utf8()) } as never)),
    fixed_list: makeVector(makeData({ type: new FixedSizeList(2, item(new Int32())), length: ROWS, nullCount: ROWS, nullBitmap: nullBitmap(), child: vectorFromArray(Array(2 * ROWS).fill(null), new Int32()).data[0] })),
    struct: makeVector(makeData({ type: structType, length: ROWS, nullCount: ROWS, nullBitmap: nullBitmap(), children: structType.children.map((f) => vectorFromArray(Array(ROWS).fill(null), f.type).data[0]) })),
    map: makeVector(makeData({ type: new Map_(new Field('entries', entries, false)), length: ROWS, nullCount: ROWS, nullBitmap: nullBitmap(), valueOffsets: new Int32Array(ROWS + 1), child: empty(entries) })),
    dict: makeVector(makeData({ type: new Dictionary(new Utf8(), new Int32()), length: ROWS, nullCount: ROWS, nullBitmap: nullBitmap(), data: new Int32Array(ROWS), dictionary: makeVector(empty(new Utf8()) as Data<Utf8>) })),
    list_struct: makeVector(makeData({ type: new List(item(structType)), length: ROWS, nullCount: ROWS, nullBitmap: nullBitmap(), valueOffsets: new Int32Array(ROWS + 1), child: empty(structType) })),
  };
  return new Table(columns).batches[0];
}
