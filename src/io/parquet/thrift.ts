/**
 * Thrift compact protocol, generically: a struct decodes to its fields in order (id, wire
 * type, value) and encodes back byte for byte, so Parquet footers can be read and rewritten
 * (offsets shifted, row groups concatenated) without a schema of every Parquet field.
 * Integers are bigint (i64 offsets), binary and double stay raw bytes.
 */

export const T = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

export type Value = boolean | number | bigint | Uint8Array | ThriftList | ThriftMap | ThriftStruct;
export interface Field {
  id: number;
  type: number;
  value: Value;
}
export interface ThriftStruct {
  kind: 'struct';
  fields: Field[];
}
export interface ThriftList {
  kind: 'list';
  /** LIST or SET */
  type: number;
  elementType: number;
  items: Value[];
}
export interface ThriftMap {
  kind: 'map';
  keyType: number;
  valueType: number;
  entries: [Value, Value][];
}

export class ThriftError extends Error {}

export function decodeStruct(buf: Uint8Array): { struct: ThriftStruct; length: number } {
  const r = new Reader(buf);
  const struct = r.struct();
  return { struct, length: r.pos };
}

export function encodeStruct(s: ThriftStruct): Buffer {
  const w = new Writer();
  w.struct(s);
  return w.finish();
}

/** The field `id` of a struct, if present. */
export function field(s: ThriftStruct, id: number): Field | undefined {
  return s.fields.find((f) => f.id === id);
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new ThriftError('truncated thrift data');
    return this.buf[this.pos++];
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  private zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  struct(): ThriftStruct {
    const fields: Field[] = [];
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return { kind: 'struct', fields };
      const type = header & 0x0f;
      const delta = header >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      last = id;
      // A boolean field carries its value in the type nibble.
      const value = type === T.TRUE ? true : type === T.FALSE ? false : this.value(type);
      fields.push({ id, type, value });
    }
  }

  value(type: number): Value {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        // only inside lists and maps: one byte (1 = true)
        return this.byte() === 1;
      case T.BYTE:
        return this.byte();
      case T.I16:
      case T.I32:
      case T.I64:
        return this.zigzag();
      case T.DOUBLE:
        return this.bytes(8);
      case T.BINARY:
        return this.bytes(Number(this.varint()));
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        let size = header >> 4;
        if (size === 15) size = Number(this.varint());
        const elementType = header & 0x0f;
        const items: Value[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elementType));
        return { kind: 'list', type, elementType, items };
      }
      case T.MAP: {
        const size = Number(this.varint());
        if (size === 0) return { kind: 'map', keyType: 0, valueType: 0, entries: [] };
        const kv = this.byte();
        const entries: [Value, Value][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(kv >> 4), this.value(kv & 0x0f)]);
        return { kind: 'map', keyType: kv >> 4, valueType: kv & 0x0f, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new ThriftError(`unknown thrift type ${type}`);
    }
  }

  private bytes(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new ThriftError('truncated thrift data');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

class Writer {
  private buf = Buffer.allocUnsafe(4096);
  private pos = 0;

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  private varint(n: bigint): void {
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n !== 0n) b |= 0x80;
      this.byte(b);
    } while (n !== 0n);
  }

  private zigzag(n: bigint): void {
    this.varint(n >= 0n ? n << 1n : ((-n) << 1n) - 1n);
  }

  struct(s: ThriftStruct): void {
    let last = 0;
    for (const f of s.fields) {
      const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.zigzag(BigInt(f.id));
      }
      last = f.id;
      if (type !== T.TRUE && type !== T.FALSE) this.value(type, f.value);
    }
    this.byte(0);
  }

  private value(type: number, v: Value): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        this.byte(v ? 1 : 2);
        return;
      case T.BYTE:
        this.byte(v as number);
        return;
      case T.I16:
      case T.I32:
      case T.I64:
        this.zigzag(v as bigint);
        return;
      case T.DOUBLE:
        this.raw(v as Uint8Array);
        return;
      case T.BINARY:
        this.varint(BigInt((v as Uint8Array).length));
        this.raw(v as Uint8Array);
        return;
      case T.LIST:
      case T.SET: {
        const l = v as ThriftList;
        if (l.items.length < 15) this.byte((l.items.length << 4) | l.elementType);
        else {
          this.byte(0xf0 | l.elementType);
          this.varint(BigInt(l.items.length));
        }
        for (const item of l.items) this.value(l.elementType, item);
        return;
      }
      case T.MAP: {
        const m = v as ThriftMap;
        this.varint(BigInt(m.entries.length));
        if (m.entries.length === 0) return;
        this.byte((m.keyType << 4) | m.valueType);
        for (const [k, val] of m.entries) {
          this.value(m.keyType, k);
          this.value(m.valueType, val);
        }
        return;
      }
      case T.STRUCT:
        this.struct(v as ThriftStruct);
        return;
      default:
        throw new ThriftError(`unknown thrift type ${type}`);
    }
  }

  private raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
}
