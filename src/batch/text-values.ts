/**
 * Arrow values as text, one formatter per column chosen from its type (not per value), read
 * from the column's buffers rather than through `Vector.get` (which turns timestamps into
 * milliseconds and decimals into raw words). Forms are in text-forms.ts; nested values are
 * JSON whose leaves use the same forms. A type with no text form is an error, never a guess.
 */
import { Data, DataType, IntervalUnit, Type, UnionMode, makeVector, type Vector } from 'apache-arrow';
import { isUtf8 } from 'node:buffer';
import { SinkError } from '../errors';
import { decimalText, floatText, isoDate, isoDuration, isoInterval, isoTime, isoTimestamp, wordsToBigInt } from './text-forms';

/** A JSON fragment (NDJSON) or CSV text for row `i`; `null` for a null value. */
export type Formatter = (i: number) => string | null;

/** One value of one `Data` (index relative to it; arrow-js slices buffers with the data). */
type Cell = (data: Data, i: number) => string | null;

const DAY_MS = 86_400_000;

/** Text of a value as a CSV field or a partition directory shows it (before quoting). */
export function textFormatter(vector: Vector): Formatter {
  return overVector(vector, textCell(vector.type));
}

/**
 * A JSON fragment for a value (NDJSON). `safeInts`: a 64-bit integer a double cannot hold is
 * written as a string of its digits (the dead-letter `values`, which JavaScript reads with
 * JSON.parse), not as a bare number that such a reader would round.
 */
export function jsonFormatter(vector: Vector, safeInts = false): Formatter {
  return overVector(vector, jsonCell(vector.type, safeInts));
}

function overVector(vector: Vector, cell: Cell): Formatter {
  const chunks = vector.data;
  if (chunks.length === 1) return (i) => cell(chunks[0], i);
  const starts: number[] = [];
  chunks.reduce((at, d) => (starts.push(at), at + d.length), 0);
  return (i) => {
    let c = chunks.length - 1;
    while (starts[c] > i) c--;
    return cell(chunks[c], i - starts[c]);
  };
}

/** `Vector.get` for the types it returns exactly (strings, binary, booleans), one vector per Data. */
const vectors = new WeakMap<Data, Vector>();
function get(data: Data, i: number): unknown {
  let v = vectors.get(data);
  if (!v) vectors.set(data, (v = makeVector(data)));
  return v.get(i);
}

/** Data whose whole value buffer is valid UTF-8 (one native pass per Data). */
const validUtf8 = new WeakSet<Data>();

/**
 * A string as text, refused when its bytes are not UTF-8 (say a lone surrogate written as
 * bytes, as WTF-8 or CESU-8 do, by a process stage in another language): decoding would put
 * U+FFFD in their place without a word. The Arrow sink copies such bytes as they are; Parquet
 * (polars) refuses them.
 */
function checkedUtf8(d: Data, i: number): string {
  if (!validUtf8.has(d)) {
    if (isUtf8(d.values as Uint8Array)) validUtf8.add(d);
    else {
      const offsets = d.valueOffsets as Int32Array | BigInt64Array;
      const bytes = (d.values as Uint8Array).subarray(Number(offsets[i]), Number(offsets[i + 1]));
      if (!isUtf8(bytes)) throw new SinkError('the value is not valid UTF-8 (a lone surrogate written as bytes, or other bad bytes): as text it would become U+FFFD; fix the strings the stage or input gives');
    }
  }
  return get(d, i) as string;
}

const valid = (cell: (data: Data, i: number) => string): Cell => (data, i) => (data.getValid(i) ? cell(data, i) : null);
const base64 = (data: Data, i: number) => Buffer.from(get(data, i) as Uint8Array).toString('base64');

/** The text of a scalar (string, number, date, …) without JSON quoting; undefined for nested types. */
function scalarText(type: DataType): Cell | undefined {
  switch (type.typeId) {
    case Type.Null:
      return () => null;
    case Type.Bool:
      return valid((d, i) => String(get(d, i)));
    case Type.Int:
      return valid((d, i) => String(d.values[i]));
    case Type.Float: {
      const single = (type as unknown as { precision: number }).precision === 1;
      return valid((d, i) => floatText(Number(get(d, i)), single));
    }
    case Type.Decimal: {
      const { scale, bitWidth } = type as unknown as { scale: number; bitWidth: number };
      const stride = bitWidth / 32;
      return valid((d, i) => decimalText(wordsToBigInt(d.values as Uint32Array, i * stride, stride), scale));
    }
    case Type.Utf8:
    case Type.LargeUtf8:
      return valid(checkedUtf8);
    case Type.Utf8View: // (from polars, which holds its strings valid UTF-8)
      return valid((d, i) => get(d, i) as string);
    case Type.Binary:
    case Type.LargeBinary:
    case Type.BinaryView:
    case Type.FixedSizeBinary:
      return valid(base64);
    case Type.Date:
      // Date32 counts days; Date64 counts milliseconds (whole days; anything else is shown as a timestamp)
      return valid((d, i) => {
        if (d.values instanceof Int32Array) return isoDate(d.values[i]);
        const ms = Number(d.values[i]);
        return ms % DAY_MS === 0 ? isoDate(ms / DAY_MS) : isoTimestamp(BigInt(ms), 1, false);
      });
    case Type.Timestamp: {
      const { unit, timezone } = type as unknown as { unit: number; timezone: string | null };
      return valid((d, i) => isoTimestamp(BigInt(d.values[i]), unit, Boolean(timezone)));
    }
    case Type.Time: {
      const { unit } = type as unknown as { unit: number };
      return valid((d, i) => isoTime(BigInt(d.values[i]), unit));
    }
    case Type.Duration: {
      const { unit } = type as unknown as { unit: number };
      return valid((d, i) => isoDuration(BigInt(d.values[i]), unit));
    }
    case Type.Interval:
      return valid(intervalText((type as unknown as { unit: IntervalUnit }).unit));
    case Type.Dictionary: {
      const inner = textCell((type as unknown as { dictionary: DataType }).dictionary);
      return dictionary(inner);
    }
  }
  return undefined;
}

function intervalText(unit: IntervalUnit): (d: Data, i: number) => string {
  switch (unit) {
    case IntervalUnit.YEAR_MONTH:
      return (d, i) => isoInterval(d.values[i], 0, 0n);
    case IntervalUnit.DAY_TIME:
      return (d, i) => isoInterval(0, d.values[2 * i], BigInt(d.values[2 * i + 1]) * 1_000_000n);
    default: {
      // MONTH_DAY_NANO: int32 months, int32 days, int64 nanoseconds (two int32 words, little-endian)
      return (d, i) => {
        const w = d.values as Int32Array;
        const nanos = (BigInt(w[4 * i + 3]) << 32n) | BigInt(w[4 * i + 2] >>> 0);
        return isoInterval(w[4 * i], w[4 * i + 1], nanos);
      };
    }
  }
}

/** A dictionary-encoded value: its index looked up in the dictionary, formatted by the value type. */
function dictionary(inner: Cell): Cell {
  const lookups = new WeakMap<Vector, Formatter>();
  return (d, i) => {
    if (!d.getValid(i)) return null;
    const dict = d.dictionary!;
    let f = lookups.get(dict);
    if (!f) lookups.set(dict, (f = overVector(dict, inner)));
    return f(Number(d.values[i]));
  };
}

function textCell(type: DataType): Cell {
  return scalarText(type) ?? jsonCell(type, false);
}

/** Integer digits beyond ±2^53 (a double would round them) as a JSON string; the rest as they are. */
function safeInt(digits: Cell): Cell {
  return (d, i) => {
    const t = digits(d, i);
    return t !== null && t.replace('-', '').length >= 16 && !Number.isSafeInteger(Number(t)) ? `"${t}"` : t;
  };
}

/** The JSON fragment of a value: numbers and booleans bare, everything else scalar as a string, nested as arrays/objects. */
function jsonCell(type: DataType, safeInts: boolean): Cell {
  switch (type.typeId) {
    case Type.Null:
      return () => null;
    case Type.Int:
      return safeInts ? safeInt(scalarText(type)!) : scalarText(type)!;
    case Type.Bool:
    case Type.Decimal:
      return scalarText(type)!;
    case Type.Float: {
      // JSON has no NaN or infinities: they are written as the strings CSV uses ("NaN", "inf", "-inf")
      const text = scalarText(type)!;
      return (d, i) => {
        const t = text(d, i);
        return t === null || /\d/.test(t) ? t : JSON.stringify(t);
      };
    }
    case Type.Dictionary:
      return dictionary(jsonCell((type as unknown as { dictionary: DataType }).dictionary, safeInts));
    case Type.List:
    case Type.LargeList: {
      const child = jsonCell(type.children[0].type, safeInts);
      return valid((d, i) => {
        const from = Number(d.valueOffsets[i]);
        const to = Number(d.valueOffsets[i + 1]);
        return items(d.children[0], from, to, child);
      });
    }
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      const child = jsonCell(type.children[0].type, safeInts);
      return valid((d, i) => items(d.children[0], i * size, (i + 1) * size, child));
    }
    case Type.Struct: {
      const keys = type.children.map((f) => JSON.stringify(f.name ?? ''));
      const cells = type.children.map((f) => jsonCell(f.type, safeInts));
      return valid((d, i) => `{${cells.map((c, k) => `${keys[k]}:${c(d.children[k], i) ?? 'null'}`).join(',')}}`);
    }
    case Type.Map: {
      // An object keyed by each key's text form (the shape JSON readers expect of a map).
      const entries = type.children[0].type as DataType;
      const key = textCell(entries.children[0].type);
      const value = jsonCell(entries.children[1].type, safeInts);
      return valid((d, i) => {
        const e = d.children[0];
        const parts: string[] = [];
        const seen = new Set<string>();
        for (let j = Number(d.valueOffsets[i]); j < Number(d.valueOffsets[i + 1]); j++) {
          const k = JSON.stringify(key(e.children[0], j) ?? 'null');
          // A JSON object keeps one value per key: a map holding a key twice cannot be written as one.
          if (seen.has(k)) throw new SinkError(`map key ${k} occurs twice in one value; a JSON object holds each key once`);
          seen.add(k);
          parts.push(`${k}:${value(e.children[1], j) ?? 'null'}`);
        }
        return `{${parts.join(',')}}`;
      });
    }
    case Type.Union: {
      const u = type as unknown as { mode: UnionMode; typeIdToChildIndex: Record<number, number> };
      const cells = type.children.map((f) => jsonCell(f.type, safeInts));
      return (d, i) => {
        const k = u.typeIdToChildIndex[d.typeIds[i]];
        return cells[k](d.children[k], u.mode === UnionMode.Dense ? Number(d.valueOffsets[i]) : i);
      };
    }
  }
  const text = scalarText(type);
  if (!text) throw new SinkError(`no text form for Arrow type ${type} (CSV and NDJSON cannot hold it; cast the column in a stage)`);
  return (d, i) => {
    const t = text(d, i);
    return t === null ? null : JSON.stringify(t);
  };
}

function items(child: Data, from: number, to: number, cell: Cell): string {
  let out = '[';
  for (let j = from; j < to; j++) out += `${j > from ? ',' : ''}${cell(child, j) ?? 'null'}`;
  return out + ']';
}
