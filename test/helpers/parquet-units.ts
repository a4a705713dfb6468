/**
 * The Parquet unit fixtures (test/fixtures/data/parquet/units/, made by
 * test/fixtures/scripts/make-parquet-units.py) and their canonical values: what pyarrow read
 * (the committed JSON), and the same canonical text computed here from an Arrow vector (what
 * sluice read, or an Arrow/Parquet sink's output read back) or from a text sink's text. The
 * canonical form does not depend on the unit a reader picks: timestamps in ns since the epoch
 * (+ `Z` when zoned), times in ns since midnight, dates in days, durations in ns, decimals
 * exact, binary as hex, floats by value; a map as the list of its {key, value} entries, the
 * form sluice reads it in (polars has no map type).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DataType, Type, Vector, type Data, type Field } from 'apache-arrow';

export const UNITS_DIR = path.resolve(__dirname, '../fixtures/data/parquet/units');

export type Canon = string | null | Canon[] | { [key: string]: Canon };

export interface ExpectedFile {
  rows?: number;
  error?: string;
  columns?: Record<string, { type: string; values: Canon[] }>;
}

export function pyarrowReads(): Record<string, ExpectedFile> {
  return (JSON.parse(readFileSync(path.join(UNITS_DIR, 'pyarrow-reads.json'), 'utf8')) as { files: Record<string, ExpectedFile> }).files;
}

const NS_PER = [1_000_000_000n, 1_000_000n, 1_000n, 1n];

/** A float's value as one text: Python's `nan`/`inf`/`-0.0` and JavaScript's forms agree. */
export function floatCanon(x: number | string): string {
  const v = typeof x === 'number' ? x : ({ nan: NaN, inf: Infinity, '-inf': -Infinity, NaN: NaN, Infinity, '-Infinity': -Infinity } as Record<string, number>)[x] ?? Number(x);
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

/** pyarrow's canonical value with its floats in floatCanon's form (the JSON holds Python's repr). */
export function normaliseExpected(value: Canon, type: string): Canon {
  if (value === null) return null;
  if (/^(halffloat|float|double)$/.test(type) && typeof value === 'string') return floatCanon(value);
  if (Array.isArray(value)) {
    const inner = /^(?:large_)?list<[^:]+: (.*)>$/.exec(type)?.[1] ?? /^fixed_size_list<[^:]+: (.*)>\[\d+\]$/.exec(type)?.[1];
    if (inner) return value.map((v) => normaliseExpected(v, inner));
    const map = /^map<([^,]+), (.*)>$/.exec(type);
    // polars has no map type: a map is read as the list of its {key, value} entries
    if (map) return value.map((kv) => ({ key: normaliseExpected((kv as Canon[])[0], map[1]), value: normaliseExpected((kv as Canon[])[1], map[2].replace(/ \('.*'\)$/, '')) }));
    return value;
  }
  if (typeof value === 'object') {
    const fields = /^struct<(.*)>$/.exec(type)?.[1];
    if (!fields) return value;
    const types = splitTop(fields).map((f) => [f.slice(0, f.indexOf(': ')), f.slice(f.indexOf(': ') + 2)] as const);
    return Object.fromEntries(types.map(([k, t]) => [k, normaliseExpected(value[k] ?? null, t)]));
  }
  return value;
}

/** Splits `a: int32, b: list<item: int32>` at the commas outside brackets. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if ('<([{'.includes(s[i])) depth++;
    else if ('>)]}'.includes(s[i])) depth--;
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(s.slice(start).trim());
  return out;
}

function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}` : digits;
  return negative ? `-${text}` : text;
}

function unscaled(data: Data, i: number): bigint {
  const words = data.values as Uint32Array;
  const width = (data.type as unknown as { bitWidth: number }).bitWidth / 32;
  let x = 0n;
  for (let k = width - 1; k >= 0; k--) x = (x << 32n) | BigInt(words[(data.offset + i) * width + k]);
  return BigInt.asIntN(width * 32, x);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Row i of an Arrow vector in the canonical form. */
export function canonOf(vector: Vector, i: number): Canon {
  const [data, at] = locate(vector, i);
  return canonData(data, at);
}

function locate(vector: Vector, i: number): [Data, number] {
  let at = i;
  for (const d of vector.data) {
    if (at < d.length) return [d, at];
    at -= d.length;
  }
  throw new Error(`row ${i} beyond the vector`);
}

function canonData(data: Data, i: number): Canon {
  if (!data.getValid(i)) return null;
  const type = data.type as DataType & Record<string, unknown>;
  const raw = () => BigInt((data.values as unknown as ArrayLike<number | bigint>)[data.offset + i]);
  switch (type.typeId) {
    case Type.Timestamp:
      return `${raw() * NS_PER[type.unit as number]}${type.timezone ? 'Z' : ''}`;
    case Type.Time:
    case Type.Duration:
      return String(raw() * NS_PER[type.unit as number]);
    case Type.Date:
      return type.unit === 0 ? String(raw()) : String(raw() / 86_400_000n);
    case Type.Decimal:
      return decimalText(unscaled(data, i), type.scale as number);
    case Type.Int:
      return String(raw());
    case Type.Bool:
      return data.values[(data.offset + i) >> 3] & (1 << ((data.offset + i) & 7)) ? 'true' : 'false';
    case Type.Float: {
      const v = (data.values as unknown as ArrayLike<number>)[data.offset + i];
      return floatCanon(type.precision === 0 ? halfToNumber(v) : v);
    }
    case Type.Dictionary: {
      const index = Number((data.values as unknown as ArrayLike<number | bigint>)[data.offset + i]);
      const dict = data.dictionary!;
      return canonOf(dict, index);
    }
  }
  // Everything else through apache-arrow's own getter for this one row (strings, binary, nested)
  const value = new Vector([data]).get(i) as unknown;
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || type.typeId === Type.Utf8View) return value as string;
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type) || type.typeId === Type.BinaryView) return hex(value as Uint8Array);
  if (DataType.isMap(type)) {
    const entries = data.children[0];
    const offsets = data.valueOffsets as Int32Array;
    const out: Canon[] = [];
    for (let k = offsets[data.offset + i]; k < offsets[data.offset + i + 1]; k++) out.push([canonData(entries.children[0], k), canonData(entries.children[1], k)]);
    return out;
  }
  if (DataType.isList(type) || DataType.isLargeList(type)) {
    const offsets = data.valueOffsets as unknown as ArrayLike<number | bigint>;
    const out: Canon[] = [];
    for (let k = Number(offsets[data.offset + i]); k < Number(offsets[data.offset + i + 1]); k++) out.push(canonData(data.children[0], k));
    return out;
  }
  if (DataType.isFixedSizeList(type)) {
    const size = type.listSize as number;
    // apache-arrow slices a fixed-size list's and a struct's children with it: index as unsliced
    return Array.from({ length: size }, (_, k) => canonData(data.children[0], i * size + k));
  }
  if (DataType.isStruct(type)) {
    return Object.fromEntries(type.children.map((f: Field, k: number) => [f.name, canonData(data.children[k], i)]));
  }
  throw new Error(`no canonical form for ${String(type)}`);
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
