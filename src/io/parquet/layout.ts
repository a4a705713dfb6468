/**
 * A Parquet file's layout as its footer states it, for `inspect`: each row group's rows,
 * bytes (compressed as stored, and uncompressed) and the codecs of its column chunks, and
 * the writer named in `created_by`. Read from the decoded footer (file.ts), never the pages.
 */
import { field, type ThriftList, type ThriftStruct } from './thrift';
import { rowGroupsOf } from './file';

// Field ids (parquet.thrift).
const FILE = { numRows: 3, createdBy: 6 } as const;
const ROW_GROUP = { columns: 1, totalByteSize: 2, numRows: 3, totalCompressed: 6 } as const;
const CHUNK_META = 3;
const META = { codec: 4, uncompressed: 6, compressed: 7 } as const;

/** CompressionCodec, by its enum value. */
const CODECS = ['uncompressed', 'snappy', 'gzip', 'lzo', 'brotli', 'lz4', 'zstd', 'lz4_raw'];

export interface RowGroupLayout {
  rows: number;
  /** Bytes of its column chunks as stored (after compression). */
  compressedBytes: number;
  /** Bytes of its column chunks uncompressed. */
  uncompressedBytes: number;
  /** Codecs of its column chunks, each once, in column order. */
  codecs: string[];
}

export interface ParquetLayout {
  rows: number;
  createdBy?: string;
  rowGroups: RowGroupLayout[];
}

const num = (s: ThriftStruct | undefined, id: number): number | undefined => {
  const v = s && field(s, id)?.value;
  return typeof v === 'bigint' ? Number(v) : undefined;
};

export function parquetLayout(meta: ThriftStruct): ParquetLayout {
  const rowGroups = rowGroupsOf(meta).map((group): RowGroupLayout => {
    const chunks = ((field(group, ROW_GROUP.columns)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
    const metas = chunks.map((c) => field(c, CHUNK_META)?.value as ThriftStruct | undefined);
    const sum = (id: number) => metas.reduce((n, m) => n + (num(m, id) ?? 0), 0);
    const codecs = [...new Set(metas.map((m) => num(m, META.codec)).map((c) => (c === undefined ? 'unknown' : (CODECS[c] ?? `codec ${c}`))))];
    return {
      rows: num(group, ROW_GROUP.numRows) ?? 0,
      // The group's own totals where the writer set them; the sums of its chunks otherwise.
      compressedBytes: num(group, ROW_GROUP.totalCompressed) ?? sum(META.compressed),
      uncompressedBytes: num(group, ROW_GROUP.totalByteSize) ?? sum(META.uncompressed),
      codecs,
    };
  });
  const createdBy = field(meta, FILE.createdBy)?.value;
  return {
    rows: num(meta, FILE.numRows) ?? rowGroups.reduce((n, g) => n + g.rows, 0),
    ...(createdBy instanceof Uint8Array && { createdBy: Buffer.from(createdBy).toString('utf8') }),
    rowGroups,
  };
}
