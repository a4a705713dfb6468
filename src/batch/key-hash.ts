/**
 * A 32-bit hash of each row's key values, for keyed routing (executors/keyed.ts): equal key
 * values hash equal, in every batch, thread and process, run after run (no random seed: the
 * hash is a pure function of the values' bytes).
 *
 * What "equal" means: a string hashes by its UTF-8 bytes, whether the column is Utf8,
 * LargeUtf8, Utf8View or a dictionary of strings (batches of one column may come in any of
 * these: a stage returning a polars frame gives Utf8View); a float's 0 and -0 hash equal, and
 * every NaN hashes the same; a null hashes to one fixed value, whatever the type. Other values
 * hash by their bytes as the column stores them, so an int64 5 and a float64 5 (different
 * column types) need not meet. Nested columns (lists, structs, maps, unions) are refused.
 */
import { type Data, DataType, type RecordBatch } from 'apache-arrow';

const NULL_HASH = 0x6b43a9b5;
const NAN_HASH = 0x7ff80000;

/** The rows' hashes; throws, naming the column, when a key column is missing or of a type it cannot hash. */
export function hashKeyRows(batch: RecordBatch, key: readonly string[]): Uint32Array {
  const n = batch.numRows;
  const acc = new Uint32Array(n);
  for (const name of key) {
    const at = batch.schema.fields.findIndex((f) => f.name === name);
    if (at < 0) throw new Error(`key column "${name}" is not in the batch (its columns: ${batch.schema.fields.map((f) => f.name).join(', ')})`);
    const column = batch.data.children[at] as Data;
    const h = columnHashes(column, name);
    for (let i = 0; i < n; i++) acc[i] = (Math.imul(acc[i], 31) + h[i]) >>> 0;
  }
  for (let i = 0; i < n; i++) acc[i] = fmix32(acc[i]);
  return acc;
}

/** murmur3's finaliser: every input bit moves every output bit, so `hash mod copies` spreads. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over bytes [a, b). */
function hashBytes(bytes: Uint8Array, a: number, b: number): number {
  let h = 0x811c9dc5;
  for (let k = a; k < b; k++) h = Math.imul(h ^ bytes[k], 0x01000193);
  return h >>> 0;
}

function columnHashes(d: Data, name: string): Uint32Array {
  const n = d.length;
  const type = d.type as DataType;
  let out: Uint32Array;
  if (DataType.isDictionary(type)) {
    // Hash each dictionary value once, then look the rows up: equal to hashing the values.
    const dictionary = d.dictionary!;
    const byIndex = new Uint32Array(dictionary.length);
    let at = 0;
    for (const chunk of dictionary.data) {
      byIndex.set(columnHashes(chunk as Data, name), at);
      at += chunk.length;
    }
    const indices = d.values as Exclude<ArrayBufferView, DataView> & ArrayLike<number | bigint>;
    out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = byIndex[Number(indices[i])];
  } else if (DataType.isUtf8(type) || DataType.isBinary(type) || DataType.isLargeUtf8(type) || DataType.isLargeBinary(type)) {
    const offsets = d.valueOffsets as Int32Array | BigInt64Array;
    const bytes = d.values as Uint8Array;
    out = new Uint32Array(n);
    if (offsets instanceof Int32Array) for (let i = 0; i < n; i++) out[i] = hashBytes(bytes, offsets[i], offsets[i + 1]);
    else for (let i = 0; i < n; i++) out[i] = hashBytes(bytes, Number(offsets[i]), Number(offsets[i + 1]));
  } else if (DataType.isUtf8View(type) || DataType.isBinaryView(type)) {
    // A view: its length, then the bytes inline (12 at most) or a buffer index and offset.
    const views = d.values as Exclude<ArrayBufferView, DataView>;
    const dv = new DataView(views.buffer, views.byteOffset, views.byteLength);
    const inline = new Uint8Array(views.buffer, views.byteOffset, views.byteLength);
    const buffers = d.variadicBuffers as Uint8Array[];
    out = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const v = i * 16;
      const length = dv.getInt32(v, true);
      if (length <= 12) out[i] = hashBytes(inline, v + 4, v + 4 + length);
      else {
        const start = dv.getInt32(v + 12, true);
        out[i] = hashBytes(buffers[dv.getInt32(v + 8, true)], start, start + length);
      }
    }
  } else if (DataType.isBool(type)) {
    const bits = d.values as Uint8Array;
    out = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const p = d.offset + i;
      out[i] = bits[p >> 3] & (1 << (p & 7)) ? 0x9e3779b9 : 0x7f4a7c15;
    }
  } else if (DataType.isFloat(type)) {
    out = floatHashes(d.values as Float32Array | Float64Array | Uint16Array, n);
  } else if (DataType.isNull(type)) {
    return new Uint32Array(n).fill(NULL_HASH);
  } else if (fixedWidth(type) && d.values) {
    out = wordHashes(d.values as Exclude<ArrayBufferView, DataView>, d.stride, n);
  } else {
    throw new Error(`key column "${name}" is of type ${String(type)}, which keyed routing cannot hash; key columns must be numbers, strings, binary, booleans, dates, times, timestamps, decimals or dictionaries of these`);
  }
  if (d.nullCount > 0 && d.nullBitmap?.length) {
    const valid = d.nullBitmap;
    for (let i = 0; i < n; i++) {
      const p = d.offset + i;
      if (!(valid[p >> 3] & (1 << (p & 7)))) out[i] = NULL_HASH;
    }
  }
  return out;
}

function fixedWidth(type: DataType): boolean {
  return (
    DataType.isInt(type) ||
    DataType.isDate(type) ||
    DataType.isTime(type) ||
    DataType.isTimestamp(type) ||
    DataType.isDuration(type) ||
    DataType.isDecimal(type) ||
    DataType.isInterval(type) ||
    DataType.isFixedSizeBinary(type)
  );
}

/** A float's bits, with 0 = -0 and one NaN (float16 stays bits: its values are raw Uint16). */
function floatHashes(values: Float32Array | Float64Array | Uint16Array, n: number): Uint32Array {
  const out = new Uint32Array(n);
  if (values instanceof Float64Array) {
    const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
    for (let i = 0; i < n; i++) {
      const x = values[i];
      out[i] = x === 0 ? 0 : x !== x ? NAN_HASH : (Math.imul(words[2 * i], 31) + words[2 * i + 1]) >>> 0;
    }
  } else if (values instanceof Float32Array) {
    const words = new Uint32Array(values.buffer, values.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const x = values[i];
      out[i] = x === 0 ? 0 : x !== x ? NAN_HASH : words[i];
    }
  } else for (let i = 0; i < n; i++) out[i] = values[i] === 0x8000 ? 0 : values[i];
  return out;
}

/** Fixed-width values by their bytes: 32-bit words when they align, else byte by byte. */
function wordHashes(values: Exclude<ArrayBufferView, DataView>, stride: number, n: number): Uint32Array {
  const width = stride * (values as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const out = new Uint32Array(n);
  if (width === 4 && values.byteOffset % 4 === 0) {
    const w = new Uint32Array(values.buffer, values.byteOffset, n);
    out.set(w);
  } else if (width % 4 === 0 && values.byteOffset % 4 === 0) {
    const words = width / 4;
    const w = new Uint32Array(values.buffer, values.byteOffset, n * words);
    for (let i = 0; i < n; i++) {
      let h = 0;
      for (let k = 0; k < words; k++) h = (Math.imul(h, 31) + w[i * words + k]) >>> 0;
      out[i] = h;
    }
  } else {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, n * width);
    for (let i = 0; i < n; i++) out[i] = hashBytes(bytes, i * width, (i + 1) * width);
  }
  return out;
}
