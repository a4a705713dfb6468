/**
 * A record batch that carries bytes the engine made rather than rows: an encoded Parquet
 * part on its way to the sink, a chunk of CSV text on its way to be parsed. One row, one
 * `Binary` column viewing the bytes (nothing copied), and what the bytes are in the schema's
 * metadata, so the value travels through channels and the scheduler as any batch does, and
 * carries everything about itself (no side table). The owned batch it travels in says how
 * many rows it stands for (`OwnedParts.rows`).
 */
import { Binary, Field, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';

const KIND = 'sluice.blob';
const META = 'sluice.blob.meta';

export function blobBatch(kind: string, bytes: Uint8Array, meta: object): RecordBatch {
  const schema = new Schema([new Field('bytes', new Binary(), false)], new Map([[KIND, kind], [META, JSON.stringify(meta)]]));
  const column = makeData({ type: new Binary(), length: 1, nullCount: 0, valueOffsets: new Int32Array([0, bytes.byteLength]), data: bytes });
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 1, nullCount: 0, children: [column] }));
}

/** The kind of blob `batch` is, or undefined for a batch of rows. */
export function blobKind(batch: RecordBatch): string | undefined {
  return batch.schema.metadata.get(KIND);
}

/** The bytes and metadata of a blob of `kind`; throws for anything else. */
export function readBlob<Meta>(batch: RecordBatch, kind: string): { bytes: Uint8Array; meta: Meta } {
  if (blobKind(batch) !== kind) throw new Error(`internal: expected a ${kind} blob, got ${blobKind(batch) ?? 'a batch of rows'}`);
  const data = batch.data.children[0];
  const start = data.valueOffsets[0];
  const end = data.valueOffsets[1];
  return { bytes: data.values.subarray(start, end), meta: JSON.parse(batch.schema.metadata.get(META)!) as Meta };
}
