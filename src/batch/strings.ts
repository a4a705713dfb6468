/**
 * Fast string access for stages: decodes a string column straight from its Arrow buffers
 * instead of going through apache-arrow's per-value visitor (~0.5 µs a value for Utf8,
 * ~1 µs for Utf8View here). One Buffer view per data buffer, `latin1Slice` when the bytes
 * are ASCII (no UTF-8 decoding at all), `utf8Slice` otherwise; 64-bit offsets read as
 * their low 32-bit words. Handles Utf8, LargeUtf8, Utf8View and Dictionary<…, string>,
 * sliced data and nulls.
 */
import { constants, isAscii } from 'node:buffer';
import { type Data, DataType, type RecordBatch, Type, Utf8, type Vector, makeData, makeVector } from 'apache-arrow';

/** Node's Buffer has these (what `toString(enc, s, e)` calls after checking its arguments); @types/node does not list them. */
interface SliceBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
type Decode = (buf: Buffer, start: number, end: number) => string;
const utf8: Decode = (b, s, e) => (b as SliceBuffer).utf8Slice(s, e);

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isValid(data: Data, i: number): boolean {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return true;
  const bit = data.offset + i;
  return (bitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
}

/**
 * ASCII bytes: decode the whole buffer once and cut values out of it in JavaScript (a
 * substring is no native call; one of 13+ characters is a view of the whole, not a copy).
 */
function asciiDecoder(bytes: Buffer): Decode {
  const whole = (bytes as SliceBuffer).latin1Slice(0, bytes.length);
  return (_b, s, e) => whole.substring(s, e);
}

function offsetStrings(data: Data, out: (string | null)[], at: number, wide: boolean): void {
  const values = bufferOf(data.values as Uint8Array);
  const decode = isAscii(values) ? asciiDecoder(values) : utf8;
  // LargeUtf8 offsets are int64: read the low words (values past 2 GiB in one batch are not expected).
  const raw = data.valueOffsets as Int32Array | BigInt64Array;
  const offsets = wide ? new Int32Array(raw.buffer, raw.byteOffset, raw.length * 2) : (raw as Int32Array);
  const step = wide ? 2 : 1;
  // Data.slice narrows offsets and values to the slice; `data.offset` only applies to the validity bitmap.
  for (let i = 0; i < data.length; i++) {
    out[at + i] = isValid(data, i) ? decode(values, offsets[i * step], offsets[(i + 1) * step]) : null;
  }
}

function viewStrings(data: Data, out: (string | null)[], at: number): void {
  // Data.slice has already narrowed the 16-byte views to the slice: index from 0.
  const views = data.values as Uint8Array;
  const viewBuf = bufferOf(views);
  const words = views.byteOffset % 4 === 0 ? new Int32Array(views.buffer, views.byteOffset, views.byteLength / 4) : new Int32Array(views.slice().buffer);
  const variadic = (data.variadicBuffers ?? []).map((b) => bufferOf(b));
  const decoders = variadic.map((b) => (isAscii(b) ? asciiDecoder(b) : utf8));
  // Inline values (up to 12 bytes, zero-padded), each checked for ASCII on its own words and
  // then made from its bytes as character codes; the others decoded alone.
  for (let i = 0; i < data.length; i++) {
    if (!isValid(data, i)) {
      out[at + i] = null;
      continue;
    }
    const length = words[i * 4];
    if (length <= 12) {
      const start = i * 16 + 4;
      if (((words[i * 4 + 1] | words[i * 4 + 2] | words[i * 4 + 3]) & 0x80808080) === 0) {
        out[at + i] = shortAscii(views, start, length);
      } else {
        out[at + i] = utf8(viewBuf, start, start + length);
      }
    } else {
      const buffer = words[i * 4 + 2];
      const offset = words[i * 4 + 3];
      out[at + i] = decoders[buffer](variadic[buffer], offset, offset + length);
    }
  }
}

const char = String.fromCharCode;

/**
 * The ASCII string of `b[s, s + length)`, 0-12 bytes (an inline view's value): one call with
 * the bytes as character codes, ~4x faster here than cutting a substring out of one latin1
 * decoding of the whole view buffer (a fresh megabyte-sized string per batch, and a copy per
 * value all the same, since V8 copies substrings under 13 characters).
 */
function shortAscii(b: Uint8Array, s: number, length: number): string {
  switch (length) {
    case 0: return '';
    case 1: return char(b[s]);
    case 2: return char(b[s], b[s + 1]);
    case 3: return char(b[s], b[s + 1], b[s + 2]);
    case 4: return char(b[s], b[s + 1], b[s + 2], b[s + 3]);
    case 5: return char(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4]);
    case 6: return char(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5]);
    case 7: return char(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6]);
    case 8: return char(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7]);
    case 9: return char(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8]);
    case 10: return char(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9]);
    case 11: return char(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10]);
    default: return char(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10], b[s + 11]);
  }
}

function dictionaryStrings(data: Data, out: (string | null)[], at: number): void {
  const dictionary: (string | null)[] = [];
  for (const d of data.dictionary!.data) dataStrings(d, dictionary, dictionary.length);
  const indices = data.values as ArrayLike<number | bigint>;
  for (let i = 0; i < data.length; i++) out[at + i] = isValid(data, i) ? dictionary[Number(indices[i])] : null;
}

function dataStrings(data: Data, out: (string | null)[], at: number): void {
  switch (data.type.typeId) {
    case Type.Utf8:
      return offsetStrings(data, out, at, false);
    case Type.LargeUtf8:
      return offsetStrings(data, out, at, true);
    case Type.Utf8View:
      return viewStrings(data, out, at);
    case Type.Dictionary:
      return dictionaryStrings(data, out, at);
    default:
      throw new TypeError(`not a string type: ${data.type}`);
  }
}

const isText = (t: DataType) => DataType.isUtf8(t) || DataType.isLargeUtf8(t) || DataType.isUtf8View(t);

/** A column of strings: Utf8, LargeUtf8, Utf8View, or a dictionary of one of them. */
export function isStringType(type: DataType): boolean {
  return isText(type) || (DataType.isDictionary(type) && isText(type.dictionary));
}

export function readStrings(batch: RecordBatch, column: string): (string | null)[] {
  const vector = batch.getChild(column);
  if (!vector) throw new Error(`no column "${column}" in batch (columns: ${batch.schema.fields.map((f) => f.name).join(', ')})`);
  const type = vector.type as DataType;
  if (!isStringType(type)) throw new TypeError(`column "${column}" is ${type}, not a string column (utf8, large utf8, utf8 view or a dictionary of them)`);
  return stringsOf(vector);
}

/** Every value of a string vector (isStringType), nulls as null: what `toArray()` gives, faster. */
export function stringsOf(vector: Vector): (string | null)[] {
  const out = new Array<string | null>(vector.length);
  let at = 0;
  for (const data of vector.data) {
    // An empty chunk may have no value buffers at all (a zero-row Utf8View from polars).
    if (data.length === 0) continue;
    dataStrings(data, out, at);
    at += data.length;
  }
  return out;
}

interface WriteBuffer extends Buffer {
  utf8Write(text: string, offset: number, length: number): number;
}

/**
 * The reverse fast path: JS strings to a Utf8 vector in one buffer, instead of
 * apache-arrow's per-value builder. Each value is written straight into a buffer sized for
 * one byte per character (every value ASCII, as ids, hashes and codes are), the offsets
 * following the string lengths. Otherwise two native passes per value: byte lengths, then
 * writes.
 */
export function buildUtf8(values: readonly (string | null | undefined)[]): Vector<Utf8> {
  return buildUtf8Within(values, UTF8_LIMITS);
}

/** What one Utf8 column of one batch can hold: 32-bit offsets; `joinedChars`: past it, values are written one by one (tests make it small). */
export const UTF8_LIMITS = { joinedChars: constants.MAX_STRING_LENGTH, bytes: 2 ** 31 - 1 };

/** buildUtf8 with its limits given (tests make them small). */
export function buildUtf8Within(values: readonly (string | null | undefined)[], limits: typeof UTF8_LIMITS): Vector<Utf8> {
  return makeVector(makeData({ type: new Utf8(), length: values.length, ...utf8Parts(values, limits) }));
}

/** The buffers of a Utf8 column of `values` (what buildUtf8 builds, for any copy of apache-arrow). */
export function utf8Parts(
  values: readonly (string | null | undefined)[],
  limits: typeof UTF8_LIMITS = UTF8_LIMITS,
): { valueOffsets: Int32Array; data: Uint8Array; nullCount: number; nullBitmap: Uint8Array | undefined } {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let chars = 0;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) nulls++;
    else chars += v.length;
    offsets[i + 1] = chars;
  }
  // More characters than one Utf8 column holds, or some value not ASCII: value by value.
  let data = chars <= Math.min(limits.joinedChars, limits.bytes) ? asciiInPlace(values, offsets, chars) : undefined;
  data ??= writeEach(values, offsets, limits.bytes);
  let validity: Uint8Array | undefined;
  if (nulls) {
    validity = new Uint8Array(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) validity[i >> 3] |= 1 << (i & 7);
  }
  return { valueOffsets: offsets, data, nullCount: nulls, nullBitmap: validity };
}

/**
 * Every value written at its offset (`offsets` counted in characters), when every value is
 * ASCII (one byte per character); undefined as soon as one is not. One native write per value
 * into one buffer: ~6 ms for 65 536 sha256 hex digests, where joining them into one string
 * first and encoding that took ~35 ms (V8 flattens the joined string into fresh memory).
 *
 * A value that is not ASCII either writes a byte ≥ 0x80 within its `length` bytes (its first
 * non-ASCII character fitted) or writes fewer than `length` bytes (it did not): so "every
 * value wrote exactly its length, and the buffer is all ASCII" holds only when every value is
 * ASCII. A lone surrogate is not ASCII, so it is never written here (writeEach refuses it).
 */
function asciiInPlace(values: readonly (string | null | undefined)[], offsets: Int32Array, chars: number): WriteBuffer | undefined {
  const data = Buffer.allocUnsafe(chars) as WriteBuffer;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || v.length === 0) continue;
    if (data.utf8Write(v, offsets[i], v.length) !== v.length) return undefined;
  }
  return isAscii(data) ? data : undefined;
}

/**
 * A string with a lone surrogate (an unpaired \ud800–\udfff, which JS strings allow): UTF-8,
 * the encoding of Arrow's strings and of every sink, cannot hold it, and encoding writes
 * U+FFFD in its place without a word. `index`: the value's place in the array given.
 */
export class LoneSurrogateError extends TypeError {
  constructor(
    readonly index: number,
    value: string,
  ) {
    super(
      `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} holds a lone surrogate (an unpaired \\ud800–\\udfff), which UTF-8 text cannot hold ` +
        '(Arrow strings and every sink are UTF-8: it would become U+FFFD); fix the string, or replace such characters yourself (s.toWellFormed())',
    );
  }
}

const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * Some value is not ASCII, or the values are too long to join: byte offsets per value
 * (rewrites `offsets`), then each value written. More bytes than 32-bit offsets reach is an
 * error here, not offsets that wrap around; so is a lone surrogate (only a value that is not
 * ASCII can hold one, so the joined path never meets one).
 */
function writeEach(values: readonly (string | null | undefined)[], offsets: Int32Array, maxBytes: number): WriteBuffer {
  let bytes = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) {
      if (!wellFormed(v)) throw new LoneSurrogateError(i, v);
      bytes += Buffer.byteLength(v, 'utf8');
    }
    if (bytes > maxBytes) {
      throw new RangeError(`${values.length} strings hold more than ${maxBytes} bytes of UTF-8 (by value ${i}), more than one Utf8 column of a batch can (32-bit offsets): emit smaller batches`);
    }
    offsets[i + 1] = bytes;
  }
  const data = Buffer.allocUnsafe(bytes) as WriteBuffer;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) data.utf8Write(v, offsets[i], offsets[i + 1] - offsets[i]);
  }
  return data;
}
