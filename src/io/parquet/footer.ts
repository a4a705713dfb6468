/**
 * Parquet footers (FileMetaData, thrift compact): reading the row-group layout, and
 * assembling one file from whole Parquet files written one after another, so row groups
 * can be encoded while a stream runs. Pages are never touched: each part's pages are
 * appended verbatim, its page index is rebuilt where it holds file offsets (page-index.ts),
 * and the part's row groups are listed in one merged footer with every file offset shifted
 * by where the part landed.
 */
import { rowGroupsOf } from './file';
import { relocatePageIndex } from './page-index';
import { T, decodeStruct, encodeStruct, field, type ThriftList, type ThriftStruct, type Value } from './thrift';

export { readRowGroups, type RowGroupInfo } from './file';

const MAGIC = Buffer.from('PAR1', 'latin1');

// Field ids (parquet.thrift).
const FILE = { numRows: 3, rowGroups: 4, schema: 2 } as const;
const ROW_GROUP = { columns: 1, numRows: 3, fileOffset: 5, ordinal: 7 } as const;
/** ColumnChunk's file_offset (its page index pointers are relocated by page-index.ts). */
const CHUNK_OFFSETS = [2];
const CHUNK_META = 3;
/** ColumnMetaData offsets: data_page, index_page, dictionary_page, bloom_filter. */
const META_OFFSETS = [9, 10, 11, 14];

/** The footer of a whole Parquet file in memory; throws with `what` in the message if it is not one. */
export function footerOf(file: Uint8Array, what: string): ThriftStruct {
  const view = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (view.length < 12 || !view.subarray(0, 4).equals(MAGIC) || !view.subarray(view.length - 4).equals(MAGIC)) throw new Error(`${what} is not a Parquet file (no PAR1 magic)`);
  const length = view.readUInt32LE(view.length - 8);
  // Decoded binary fields (statistics) are views of what they were decoded from: decode a
  // copy of the few footer bytes, or every kept row group would hold its whole file alive.
  return decodeStruct(Buffer.from(view.subarray(view.length - 8 - length, view.length - 8))).struct;
}

/**
 * Builds one Parquet file out of complete Parquet files with the same schema: write
 * `header()`, then `add(part)` for each part in order, then `footer()`.
 */
export class ParquetAssembler {
  private template: ThriftStruct | undefined;
  private schema: Buffer | undefined;
  private readonly groups: ThriftStruct[] = [];
  private rows = 0n;
  /** Bytes of the output so far. */
  written = 0;

  header(): Buffer {
    this.written = MAGIC.length;
    return MAGIC;
  }

  /** Takes a whole Parquet file; returns the bytes to append to the output (a view of `part`). */
  add(part: Uint8Array): Uint8Array {
    const meta = footerOf(part, 'an encoded row group');
    const schema = encodeStruct({ kind: 'struct', fields: meta.fields.filter((f) => f.id === FILE.schema) });
    if (!this.template) {
      this.template = meta;
      this.schema = schema;
    } else if (!schema.equals(this.schema!)) {
      throw new Error('a row group was encoded with another Parquet schema than the first one; every batch must have the same schema');
    }
    const footerLength = Buffer.from(part.buffer, part.byteOffset, part.byteLength).readUInt32LE(part.length - 8);
    const shift = BigInt(this.written - MAGIC.length);
    const groups = rowGroupsOf(meta);
    const chunks = groups.flatMap((g) => (field(g, ROW_GROUP.columns)?.value as ThriftList).items as ThriftStruct[]);
    // Before the pages' offsets move: it reads them as they are in the part.
    const { keepUntil, index } = relocatePageIndex(part, part.length - 8 - footerLength, chunks, shift);
    const pages = part.subarray(MAGIC.length, keepUntil);
    const body = index.length ? Buffer.concat([pages, index]) : pages;
    for (const group of groups) {
      shiftFields(group, [ROW_GROUP.fileOffset], shift);
      for (const chunk of (field(group, ROW_GROUP.columns)?.value as ThriftList).items as ThriftStruct[]) {
        shiftFields(chunk, CHUNK_OFFSETS, shift);
        const columnMeta = field(chunk, CHUNK_META)?.value as ThriftStruct | undefined;
        if (columnMeta) shiftFields(columnMeta, META_OFFSETS, shift);
      }
      const ordinal = field(group, ROW_GROUP.ordinal);
      if (ordinal) ordinal.value = BigInt(this.groups.length);
      this.groups.push(group);
      this.rows += (field(group, ROW_GROUP.numRows)?.value as bigint | undefined) ?? 0n;
    }
    this.written += body.length;
    return body;
  }

  get rowGroups(): number {
    return this.groups.length;
  }

  /** The merged footer, its length and the closing magic. */
  footer(): Buffer {
    if (!this.template) throw new Error('no part was added');
    const fields = this.template.fields.map((f) => {
      if (f.id === FILE.numRows) return { ...f, value: this.rows as Value };
      if (f.id === FILE.rowGroups) return { ...f, value: { kind: 'list', type: T.LIST, elementType: T.STRUCT, items: this.groups } as ThriftList };
      return f;
    });
    const meta = encodeStruct({ kind: 'struct', fields });
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(meta.length, 0);
    MAGIC.copy(tail, 4);
    const out = Buffer.concat([meta, tail]);
    this.written += out.length;
    return out;
  }
}

function shiftFields(s: ThriftStruct, ids: readonly number[], shift: bigint): void {
  for (const f of s.fields) if (ids.includes(f.id) && f.type === T.I64) f.value = (f.value as bigint) + shift;
}
