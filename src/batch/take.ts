/**
 * Rows of a record batch picked by index into a new batch of exactly the same schema (types,
 * dictionaries, nested children kept as they are: no trip through polars, which would change
 * some types). Keyed routing (executors/keyed.ts) cuts each batch into one part per copy with it.
 *
 * apache-arrow's slicing rules (data.js `_sliceBuffers`): a sliced Data keeps its fixed-width
 * values, views and value offsets already cut to the slice, but its bit buffers (validity, and
 * a boolean's values) and a list's child are addressed from `offset`. Each case below reads
 * them that way; the output is always unsliced (offset 0).
 */
import { Data, DataType, RecordBatch, type Struct } from 'apache-arrow';

/** `indices`: row positions in `batch`, in the order the new batch holds them. */
export function takeRows(batch: RecordBatch, indices: Uint32Array): RecordBatch {
  return new RecordBatch(batch.schema, takeData(batch.data, indices) as Data<Struct>);
}

type Typed = ArrayBufferView & { readonly BYTES_PER_ELEMENT: number };

export function takeData(d: Data, idx: Uint32Array): Data {
  const n = idx.length;
  const type = d.type as DataType;
  if (DataType.isNull(type)) return new Data(type, 0, n, n);
  if (DataType.isUnion(type)) throw new Error(`cannot split rows of a ${String(type)} column (union columns are not supported by keyed routing)`);
  const validity = d.nullCount > 0 && d.nullBitmap?.length ? takeBits(d.nullBitmap, d.offset, idx) : undefined;
  const nullCount = validity ? n - countBits(validity, n) : 0;
  const make = (buffers: [unknown, unknown], children: Data[] = [], dictionary = d.dictionary, variadic?: Uint8Array[]) =>
    new Data(type, 0, n, nullCount, [buffers[0], buffers[1], validity] as never, children, dictionary, variadic);

  if (DataType.isBool(type)) return make([undefined, takeBits(d.values as Uint8Array, d.offset, idx)]);
  if (DataType.isUtf8(type) || DataType.isBinary(type) || DataType.isLargeUtf8(type) || DataType.isLargeBinary(type)) {
    const { offsets, bytes } = takeVariable(d.valueOffsets as Int32Array | BigInt64Array, d.values as Uint8Array, idx);
    return make([offsets, bytes]);
  }
  if (DataType.isUtf8View(type) || DataType.isBinaryView(type)) {
    // 16-byte views; the out-of-line bytes stay in the (shared) variadic buffers they point into.
    return make([undefined, takeFixed(d.values as Typed, 16 / (d.values as Typed).BYTES_PER_ELEMENT, idx)], [], undefined, d.variadicBuffers as Uint8Array[]);
  }
  if (DataType.isList(type) || DataType.isLargeList(type) || DataType.isMap(type)) {
    const offsets = d.valueOffsets as Int32Array | BigInt64Array;
    const { offsets: out, childRows } = takeRanges(offsets, idx);
    return make([out, undefined], [takeData(d.children[0], childRows)]);
  }
  if (DataType.isFixedSizeList(type)) {
    const size = type.listSize;
    const childRows = new Uint32Array(n * size);
    for (let j = 0; j < n; j++) for (let k = 0; k < size; k++) childRows[j * size + k] = idx[j] * size + k;
    return make([undefined, undefined], [takeData(d.children[0], childRows)]);
  }
  if (DataType.isStruct(type)) return make([undefined, undefined], d.children.map((c) => takeData(c, idx)));
  // Fixed width (numbers, dates, times, decimals, fixed-size binary) and dictionary indices.
  if (d.values) return make([undefined, takeFixed(d.values as Typed, d.stride, idx)]);
  throw new Error(`cannot split rows of a ${String(type)} column (keyed routing does not know its layout)`);
}

/** Fixed-width values, `stride` elements a row, copied as 32-bit words when they align (exact bits, no BigInt boxing). */
function takeFixed(values: Typed, stride: number, idx: Uint32Array): Typed {
  const width = stride * values.BYTES_PER_ELEMENT;
  const n = idx.length;
  const out = new ArrayBuffer(n * width);
  if (width % 4 === 0 && values.byteOffset % 4 === 0) {
    const words = width / 4;
    const src = new Uint32Array(values.buffer, values.byteOffset, (values.byteLength / 4) | 0);
    const dst = new Uint32Array(out);
    if (words === 1) for (let j = 0; j < n; j++) dst[j] = src[idx[j]];
    else if (words === 2) {
      for (let j = 0; j < n; j++) {
        const s = idx[j] * 2;
        dst[2 * j] = src[s];
        dst[2 * j + 1] = src[s + 1];
      }
    } else for (let j = 0; j < n; j++) for (let w = 0; w < words; w++) dst[j * words + w] = src[idx[j] * words + w];
  } else {
    const src = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const dst = new Uint8Array(out);
    for (let j = 0; j < n; j++) for (let b = 0; b < width; b++) dst[j * width + b] = src[idx[j] * width + b];
  }
  const Ctor = values.constructor as new (buffer: ArrayBuffer) => Typed;
  return new Ctor(out);
}

/** Bits at `offset + idx[j]`, packed from bit 0. */
function takeBits(bits: Uint8Array, offset: number, idx: Uint32Array): Uint8Array {
  const out = new Uint8Array(((idx.length + 63) & ~63) >> 3);
  for (let j = 0; j < idx.length; j++) {
    const p = offset + idx[j];
    if (bits[p >> 3] & (1 << (p & 7))) out[j >> 3] |= 1 << (j & 7);
  }
  return out;
}

function countBits(bits: Uint8Array, n: number): number {
  let c = 0;
  for (let j = 0; j < n; j++) if (bits[j >> 3] & (1 << (j & 7))) c++;
  return c;
}

function takeVariable(offsets: Int32Array | BigInt64Array, bytes: Uint8Array, idx: Uint32Array): { offsets: Int32Array | BigInt64Array; bytes: Uint8Array } {
  const n = idx.length;
  const large = offsets instanceof BigInt64Array;
  const start = (i: number) => (large ? Number(offsets[i]) : (offsets[i] as number));
  let total = 0;
  for (let j = 0; j < n; j++) total += start(idx[j] + 1) - start(idx[j]);
  const out = new Uint8Array(total);
  const outOffsets = large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
  let at = 0;
  for (let j = 0; j < n; j++) {
    const a = start(idx[j]);
    const b = start(idx[j] + 1);
    // Short values byte by byte: set() on a subarray costs more than it saves below ~16 bytes.
    if (b - a < 16) for (let k = a; k < b; k++) out[at++] = bytes[k];
    else {
      out.set(bytes.subarray(a, b), at);
      at += b - a;
    }
    if (large) (outOffsets as BigInt64Array)[j + 1] = BigInt(at);
    else (outOffsets as Int32Array)[j + 1] = at;
  }
  return { offsets: outOffsets, bytes: out };
}

/** A list's rows: the new offsets, and the child rows they cover, in order. */
function takeRanges(offsets: Int32Array | BigInt64Array, idx: Uint32Array): { offsets: Int32Array | BigInt64Array; childRows: Uint32Array } {
  const n = idx.length;
  const large = offsets instanceof BigInt64Array;
  const start = (i: number) => (large ? Number(offsets[i]) : (offsets[i] as number));
  let total = 0;
  for (let j = 0; j < n; j++) total += start(idx[j] + 1) - start(idx[j]);
  const childRows = new Uint32Array(total);
  const out = large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
  let at = 0;
  for (let j = 0; j < n; j++) {
    for (let k = start(idx[j]), end = start(idx[j] + 1); k < end; k++) childRows[at++] = k;
    if (large) (out as BigInt64Array)[j + 1] = BigInt(at);
    else (out as Int32Array)[j + 1] = at;
  }
  return { offsets: out, childRows };
}
