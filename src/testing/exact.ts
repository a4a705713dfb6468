/**
 * Values read out of Arrow data exactly, for comparisons. apache-arrow's own getters give a
 * timestamp as a float of milliseconds (a µs or ns value loses its last digits, and a `Date`
 * made from it loses everything below the millisecond) and a decimal as its unscaled integer
 * without the scale; a test kit that compared those would call different values equal. So a
 * timestamp becomes an `ExactTime` (a `Date` that also carries its nanoseconds) and a decimal
 * an `ExactDecimal`, read from the raw buffers, in nested values too.
 */
import { DataType, makeVector, TimeUnit, type Data, type Decimal, type Timestamp, type Vector } from 'apache-arrow';

const NS_PER_UNIT: Record<number, bigint> = { [TimeUnit.SECOND]: 1_000_000_000n, [TimeUnit.MILLISECOND]: 1_000_000n, [TimeUnit.MICROSECOND]: 1_000n, [TimeUnit.NANOSECOND]: 1n };
const DIGITS: Record<number, number> = { [TimeUnit.SECOND]: 0, [TimeUnit.MILLISECOND]: 3, [TimeUnit.MICROSECOND]: 6, [TimeUnit.NANOSECOND]: 9 };

/** A timestamp: a `Date` (to the millisecond, as before) that keeps every digit of its unit. */
export class ExactTime extends Date {
  readonly #ns: bigint;
  readonly #digits: number;
  constructor(ns: bigint, digits: number) {
    super(Number(floorDiv(ns, 1_000_000n)));
    this.#ns = ns;
    this.#digits = digits;
  }
  /** Nanoseconds since the epoch. */
  get epochNanoseconds(): bigint {
    return this.#ns;
  }
  /** ISO 8601 with every digit of the column's unit (`.123456` for µs). */
  override toISOString(): string {
    const base = new Date(Number(floorDiv(this.#ns, 1_000_000_000n)) * 1000).toISOString().slice(0, 19);
    const fraction = ((this.#ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
    return `${base}${this.#digits ? `.${fraction.toString().padStart(9, '0').slice(0, this.#digits)}` : ''}Z`;
  }
}

/** A decimal: its unscaled integer and scale (`1.20` is 120 at scale 2). */
export class ExactDecimal {
  constructor(
    readonly unscaled: bigint,
    readonly scale: number,
  ) {}
  toString(): string {
    if (this.scale <= 0) return (this.unscaled * 10n ** BigInt(-this.scale)).toString();
    const digits = (this.unscaled < 0n ? -this.unscaled : this.unscaled).toString().padStart(this.scale + 1, '0');
    return `${this.unscaled < 0n ? '-' : ''}${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`;
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const vectors = new WeakMap<Data, Vector>();

/** Value `i` of `data` (relative to the data, as apache-arrow's getters take it), exactly. */
export function exactValue(data: Data, i: number): unknown {
  if (!data.getValid(i)) return null;
  const type = data.type as DataType;
  if (DataType.isTimestamp(type)) {
    const unit = (type as Timestamp).unit;
    return new ExactTime(BigInt((data.values as BigInt64Array)[i]) * NS_PER_UNIT[unit], DIGITS[unit]);
  }
  if (DataType.isDecimal(type)) return decimalAt(data, i);
  if (DataType.isDictionary(type)) return dictionaryValue(data, Number((data.values as ArrayLike<number | bigint>)[i]));
  if (DataType.isList(type) || DataType.isLargeList(type) || DataType.isMap(type)) {
    const offsets = data.valueOffsets as ArrayLike<number | bigint>;
    const [from, to] = [Number(offsets[i]), Number(offsets[i + 1])];
    const child = data.children[0];
    const items = Array.from({ length: to - from }, (_, k) => exactValue(child, from + k));
    if (!DataType.isMap(type)) return items;
    // As apache-arrow gives a map: its entries as an object (each entry a { key, value } struct).
    const names = child.type.children.map((f: { name: string }) => f.name);
    return Object.fromEntries(items.map((e) => [String((e as Record<string, unknown>)[names[0]]), (e as Record<string, unknown>)[names[1]]]));
  }
  if (DataType.isFixedSizeList(type)) {
    const size = type.listSize;
    return Array.from({ length: size }, (_, k) => exactValue(data.children[0], i * size + k));
  }
  if (DataType.isStruct(type)) {
    const out: Record<string, unknown> = {};
    type.children.forEach((f, k) => (out[f.name] = exactValue(data.children[k], i)));
    return out;
  }
  let vector = vectors.get(data);
  if (!vector) vectors.set(data, (vector = makeVector(data)));
  const v = vector.get(i);
  // Dates: apache-arrow gives epoch milliseconds (exact for both units).
  if (DataType.isDate(type)) return new Date(Number(v));
  return v;
}

function decimalAt(data: Data, i: number): ExactDecimal {
  const type = data.type as Decimal;
  const words = type.bitWidth / 32;
  const values = data.values as Uint32Array;
  let unscaled = 0n;
  for (let w = words - 1; w >= 0; w--) unscaled = (unscaled << 32n) | BigInt(values[i * words + w]);
  return new ExactDecimal(BigInt.asIntN(type.bitWidth, unscaled), type.scale);
}

function dictionaryValue(data: Data, index: number): unknown {
  let at = index;
  for (const chunk of data.dictionary?.data ?? []) {
    if (at < chunk.length) return exactValue(chunk, at);
    at -= chunk.length;
  }
  return null;
}
