/**
 * Reads the row-group layout from a Parquet footer (FileMetaData, Thrift compact protocol),
 * so the source can read one row group at a time. Only what we need is decoded; every other
 * field is skipped generically. This is not a Parquet codec: pages are decoded by polars.
 */
import { open } from 'node:fs/promises';
import { SourceError } from '../../errors';

export interface RowGroupInfo {
  rows: number;
  /** Row index of the group's first row in the file. */
  offset: number;
}

export async function readRowGroups(file: string): Promise<RowGroupInfo[]> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(8);
    if (size < 12) throw new SourceError('not a Parquet file (too short)', { file });
    await handle.read(tail, 0, 8, size - 8);
    if (tail.toString('latin1', 4) !== 'PAR1') throw new SourceError('not a Parquet file (no PAR1 magic at the end)', { file });
    const footerLength = tail.readUInt32LE(0);
    const footer = Buffer.alloc(footerLength);
    await handle.read(footer, 0, footerLength, size - 8 - footerLength);
    const groups = decodeRowGroups(footer);
    let offset = 0;
    return groups.map((rows) => {
      const g = { rows, offset };
      offset += rows;
      return g;
    });
  } finally {
    await handle.close();
  }
}

// Thrift compact protocol type ids.
const T = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  byte(): number {
    return this.buf[this.pos++];
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  /** Calls `onField(id, type)` for each field of a struct; it returns false to have it skipped. */
  struct(onField: (id: number, type: number) => boolean): void {
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return;
      const type = header & 0x0f;
      const delta = header >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      last = id;
      if (!onField(id, type)) this.skip(type);
    }
  }

  list(onItem: (type: number) => void): void {
    const header = this.byte();
    let size = header >> 4;
    const type = header & 0x0f;
    if (size === 15) size = Number(this.varint());
    // booleans inside a list take a byte each (in a struct the value is in the type nibble)
    for (let i = 0; i < size; i++) if (type === T.TRUE || type === T.FALSE) this.pos++;
    else onItem(type);
  }

  skip(type: number): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return;
      case T.BYTE:
        this.pos++;
        return;
      case T.I16:
      case T.I32:
      case T.I64:
        this.varint();
        return;
      case T.DOUBLE:
        this.pos += 8;
        return;
      case T.BINARY: {
        // (read the length before touching pos: `pos += varint()` would add to the old pos)
        const length = Number(this.varint());
        this.pos += length;
        return;
      }
      case T.LIST:
      case T.SET:
        this.list((t) => this.skip(t));
        return;
      case T.MAP: {
        const size = Number(this.varint());
        if (size === 0) return;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(kv >> 4);
          this.skip(kv & 0x0f);
        }
        return;
      }
      case T.STRUCT:
        this.struct(() => false);
        return;
      default:
        throw new Error(`corrupt Parquet footer: unknown thrift type ${type}`);
    }
  }
}

/** FileMetaData field 4 = row_groups: list<RowGroup>; RowGroup field 3 = num_rows: i64. */
function decodeRowGroups(footer: Buffer): number[] {
  const r = new Reader(footer);
  const rows: number[] = [];
  r.struct((id, type) => {
    if (id !== 4 || type !== T.LIST) return false;
    r.list(() => {
      let n = 0;
      r.struct((gid, gtype) => {
        if (gid !== 3 || gtype !== T.I64) return false;
        n = Number(r.zigzag());
        return true;
      });
      rows.push(n);
    });
    return true;
  });
  return rows;
}
