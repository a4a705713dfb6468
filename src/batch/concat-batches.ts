/**
 * Record batches of one schema joined into one batch whose buffers lie in one slab: what a
 * polars frame of several chunks becomes when a stage must see it as one batch (a handed-on
 * frame read in JavaScript, batch/frame-handoff.ts).
 *
 * polars' own `rechunk` does the same join, but into fresh native memory (page faults on every
 * byte, ~12-25 ms for a 58 k-row batch of the nightly job), and its IPC writer then copies the
 * joined frame once more. Writing the frame's chunks as they are and joining them here, into a
 * recycled slab, copies each byte once into warm memory. Utf8View strings are not copied at all:
 * their views are, pointing into the data buffers where the IPC file put them.
 *
 * Only the flat types polars hands on (fixed-width numbers, dates, timestamps, booleans,
 * Utf8View) are joined here; for anything else `concatBatches` answers undefined and the caller
 * takes polars' rechunk as before.
 */
import { Data, DataType, RecordBatch, Struct, type Schema } from 'apache-arrow';
import { SLAB_HEADER, type SlabArena } from './slab';

type TypedArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

const ALIGN = 64;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
/** Bytes of one Utf8View view. */
const VIEW = 16;
/** Longest value a view holds inline (longer ones point into a data buffer by index). */
const INLINE = 12;

/** How a column is joined: its values byte by byte, bit by bit (booleans), or as views. */
type Kind = 'fixed' | 'bits' | 'views';

function kindOf(type: DataType): Kind | undefined {
  if (DataType.isBool(type)) return 'bits';
  if (DataType.isUtf8View(type)) return 'views';
  if (DataType.isInt(type) || DataType.isFloat(type) || DataType.isDate(type) || DataType.isTimestamp(type)) return 'fixed';
  return undefined;
}

export interface Joined {
  batch: RecordBatch;
  /** The slab holding the joined buffers (count 1: the caller's). The views still point into the batches' own buffers. */
  slab: SharedArrayBuffer;
}

/**
 * `batches` (one schema, two or more, each starting at offset 0 as an IPC reader makes them)
 * as one batch in a slab of `arena`; undefined when some column is not of a type joined here.
 */
export function concatBatches(batches: readonly RecordBatch[], arena: SlabArena): Joined | undefined {
  const schema: Schema = batches[0].schema;
  const kinds = schema.fields.map((f) => kindOf(f.type));
  if (kinds.some((k) => k === undefined)) return undefined;
  const columns = schema.fields.map((_, i) => batches.map((b) => b.data.children[i]));
  if (columns.some((parts) => parts.some((d) => d.offset !== 0 || d.children.length > 0 || d.dictionary))) return undefined;
  const rows = batches.reduce((n, b) => n + b.numRows, 0);

  // One pass to size the slab, one to fill it.
  const bitmapBytes = align(Math.ceil(rows / 8));
  let bytes = 0;
  for (const [i, parts] of columns.entries()) {
    if (parts.some((d) => d.nullCount > 0)) bytes += bitmapBytes;
    bytes += kinds[i] === 'bits' ? bitmapBytes : kinds[i] === 'views' ? align(rows * VIEW) : align(rows * widthOf(parts[0]));
  }
  const slab = arena.acquire(bytes);
  const memory = new Uint8Array(slab);
  let at = SLAB_HEADER;
  const take = (n: number, size: number): Uint8Array => {
    const out = memory.subarray(at, at + n);
    at += size;
    return out;
  };

  const children = columns.map((parts, i) => {
    const type = schema.fields[i].type;
    const nullCount = parts.reduce((n, d) => n + d.nullCount, 0);
    let validity: Uint8Array | undefined;
    if (nullCount > 0) {
      validity = take(Math.ceil(rows / 8), bitmapBytes);
      validity.fill(0);
      let row = 0;
      for (const d of parts) {
        if (d.nullCount > 0) copyBits(d.nullBitmap as Uint8Array, validity, row, d.length);
        else setBits(validity, row, d.length);
        row += d.length;
      }
    }
    if (kinds[i] === 'bits') {
      const values = take(Math.ceil(rows / 8), bitmapBytes);
      values.fill(0);
      let row = 0;
      for (const d of parts) {
        copyBits(d.values as Uint8Array, values, row, d.length);
        row += d.length;
      }
      return new Data(type, 0, rows, nullCount, { 1: values, 2: validity } as never);
    }
    if (kinds[i] === 'views') {
      const { views, variadic } = joinViews(parts, take(rows * VIEW, align(rows * VIEW)));
      return new Data(type, 0, rows, nullCount, { 1: views, 2: validity } as never, [], undefined, variadic);
    }
    const width = widthOf(parts[0]);
    const joined = take(rows * width, align(rows * width));
    let offset = 0;
    for (const d of parts) {
      const v = d.values as TypedArray;
      joined.set(new Uint8Array(v.buffer, v.byteOffset, d.length * width), offset);
      offset += d.length * width;
    }
    const Ctor = (parts[0].values as TypedArray).constructor as new (b: ArrayBufferLike, o: number, l: number) => TypedArray;
    return new Data(type, 0, rows, nullCount, { 1: new Ctor(slab, joined.byteOffset, rows * (width / (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT)), 2: validity } as never);
  });
  const batch = new RecordBatch(schema, new Data(new Struct(schema.fields), 0, rows, 0, {} as never, children) as Data<Struct>);
  return { batch, slab };
}

/** Bytes of one value of a fixed-width column (its typed array's element times the type's stride). */
function widthOf(d: Data): number {
  return (d.values as TypedArray).BYTES_PER_ELEMENT * d.stride;
}

/** Bits [0, n) of `from` into `to` from bit `at` on (`to`'s bits there are 0). */
function copyBits(from: Uint8Array, to: Uint8Array, at: number, n: number): void {
  if (at % 8 === 0) {
    to.set(from.subarray(0, Math.ceil(n / 8)), at / 8);
    // Bits past n in the last byte copied belong to no row of `from`: clear them.
    const tail = (at + n) % 8;
    if (tail) to[(at + n) >> 3] &= (1 << tail) - 1;
    return;
  }
  for (let i = 0; i < n; i++) if (from[i >> 3] & (1 << (i & 7))) to[(at + i) >> 3] |= 1 << ((at + i) & 7);
}

/** Bits [at, at + n) of `to` set. */
function setBits(to: Uint8Array, at: number, n: number): void {
  for (let i = at; i < at + n; i++) to[i >> 3] |= 1 << (i & 7);
}

/**
 * The parts' views one after the other in `out`, each long value's buffer index moved past the
 * data buffers of the parts before it; the data buffers are listed, not copied.
 */
function joinViews(parts: readonly Data[], out: Uint8Array): { views: Uint8Array; variadic: Uint8Array[] } {
  const variadic: Uint8Array[] = [];
  const words = new Int32Array(out.buffer, out.byteOffset, out.byteLength / 4);
  let row = 0;
  for (const d of parts) {
    const views = d.values as Uint8Array;
    out.set(views.subarray(0, d.length * VIEW), row * VIEW);
    const shift = variadic.length;
    if (shift > 0) {
      for (let i = row; i < row + d.length; i++) if (words[i * 4] > INLINE) words[i * 4 + 2] += shift;
    }
    variadic.push(...(d.variadicBuffers as Uint8Array[]));
    row += d.length;
  }
  return { views: out, variadic };
}
