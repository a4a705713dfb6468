/**
 * apache-arrow 21's IPC writers emit unreadable bytes for a *sliced* Utf8View/BinaryView
 * column (offset != 0): "BinaryView data buffer is too short" on read. `Data.slice` already
 * narrows the views buffer to the slice, and the writer applies the offset a second time.
 * Rebasing such columns to offset 0 avoids it: the views stay as they are (no copy) and
 * only the validity bitmap, which slicing does not narrow, is rebuilt.
 */
import { Data, DataType, RecordBatch, Struct, Type } from 'apache-arrow';

function isView(type: DataType): boolean {
  return type.typeId === Type.Utf8View || type.typeId === Type.BinaryView;
}

function needsRebase(data: Data): boolean {
  // (an empty batch's struct may have no child data at all)
  return (isView(data.type) && data.offset !== 0) || (data.children ?? []).some((c) => c !== undefined && needsRebase(c));
}

function shiftBitmap(bitmap: Uint8Array, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(length / 8));
  for (let i = 0; i < length; i++) {
    const bit = offset + i;
    if (bitmap[bit >> 3] & (1 << (bit & 7))) out[i >> 3] |= 1 << (i & 7);
  }
  return out;
}

function rebase(data: Data): Data {
  if (!needsRebase(data)) return data;
  if (isView(data.type) && data.offset !== 0) {
    const views = (data.values as Uint8Array).subarray(0, data.length * 16);
    const validity = data.nullBitmap && data.nullBitmap.length ? shiftBitmap(data.nullBitmap, data.offset, data.length) : undefined;
    return new Data(data.type, 0, data.length, data.nullCount, { 1: views, 2: validity } as never, [], undefined, data.variadicBuffers);
  }
  // A parent (struct) whose children need it: rebuild the node with rebased children.
  const buffers = { 0: data.valueOffsets, 1: data.values, 2: data.nullBitmap, 3: data.typeIds } as never;
  return new Data(data.type, data.offset, data.length, data.nullCount, buffers, data.children.map((c) => (c === undefined ? c : rebase(c))), data.dictionary, data.variadicBuffers);
}

/** The batch, with sliced view columns rebased to offset 0 (the same batch when none are). */
export function rebaseViews(batch: RecordBatch): RecordBatch {
  if (!needsRebase(batch.data)) return batch;
  return new RecordBatch(batch.schema, rebase(batch.data) as Data<Struct>);
}
