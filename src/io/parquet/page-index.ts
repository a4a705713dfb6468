/**
 * The page index (ColumnIndex + OffsetIndex per column chunk) of a Parquet part being
 * appended to a merged file. Its structs sit in the part between the last page and the
 * footer, and an OffsetIndex holds absolute file offsets of every page
 * (`PageLocation.offset`), so moving the part means rewriting those structs, not only the
 * footer's pointers to them. A re-encoded OffsetIndex can change length (varints), so the
 * index region is rebuilt: ColumnIndex bytes are copied verbatim (they hold no offsets),
 * each OffsetIndex is decoded, shifted and re-encoded, and the footer's pointers and
 * lengths are set to where they now lie.
 *
 * Rewriting is only sound when the part's tail is exactly the index structs (what
 * polars/arrow-rs write): then nothing else is moved. For any other layout the page index
 * is dropped instead: it is optional, and a reader without one reads the whole column
 * chunk, while a wrong one makes page-skipping readers return other rows' values.
 */
import { T, decodeStruct, encodeStruct, field, type ThriftList, type ThriftStruct } from './thrift';

/** ColumnChunk: offset_index_offset/length, column_index_offset/length. */
const CHUNK = { meta: 3, offsetIndexOffset: 4, offsetIndexLength: 5, columnIndexOffset: 6, columnIndexLength: 7 } as const;
const PAGE_INDEX_FIELDS: readonly number[] = [4, 5, 6, 7];
/** ColumnMetaData: total_compressed_size, data_page_offset, dictionary_page_offset. */
const META = { totalCompressed: 7, dataPage: 9, dictionaryPage: 11 } as const;
/** OffsetIndex.page_locations; PageLocation.offset. */
const OFFSET_INDEX_PAGES = 1;
const PAGE_OFFSET = 1;

interface IndexRef {
  chunk: ThriftStruct;
  kind: 'column' | 'offset';
  start: number;
  length: number;
}

const num = (s: ThriftStruct, id: number): number | undefined => {
  const v = field(s, id)?.value;
  return typeof v === 'bigint' ? Number(v) : undefined;
};

/**
 * Rebuilds the index region of `part` (a whole Parquet file) for a merged output where the
 * part's byte 0 lands at `base` (so a part offset `x` becomes `x + base`). `chunks` are the
 * part's column chunks, their page offsets NOT yet shifted; their index pointers are
 * rewritten here. Returns the end (in part bytes) of what is kept verbatim and the rebuilt
 * index bytes that follow it.
 */
export function relocatePageIndex(part: Uint8Array, bodyEnd: number, chunks: ThriftStruct[], base: bigint): { keepUntil: number; index: Buffer } {
  const refs: IndexRef[] = [];
  let pagesEnd = 4;
  for (const chunk of chunks) {
    const meta = field(chunk, CHUNK.meta)?.value as ThriftStruct | undefined;
    if (meta) {
      const start = num(meta, META.dictionaryPage) ?? num(meta, META.dataPage) ?? 0;
      pagesEnd = Math.max(pagesEnd, start + (num(meta, META.totalCompressed) ?? 0));
    }
    const ci = num(chunk, CHUNK.columnIndexOffset);
    const oi = num(chunk, CHUNK.offsetIndexOffset);
    if (ci !== undefined) refs.push({ chunk, kind: 'column', start: ci, length: num(chunk, CHUNK.columnIndexLength) ?? -1 });
    if (oi !== undefined) refs.push({ chunk, kind: 'offset', start: oi, length: num(chunk, CHUNK.offsetIndexLength) ?? -1 });
  }
  if (refs.length === 0) return { keepUntil: bodyEnd, index: Buffer.alloc(0) };
  refs.sort((a, b) => a.start - b.start);
  // Sound only if the index structs tile [first index, footer) exactly, after every page.
  let at = refs[0].start;
  const tiles = refs[0].start >= pagesEnd && refs.every((r) => r.length > 0 && r.start === at && (at += r.length) <= bodyEnd) && at === bodyEnd;
  if (!tiles) {
    for (const chunk of chunks) chunk.fields = chunk.fields.filter((f) => !PAGE_INDEX_FIELDS.includes(f.id));
    return { keepUntil: bodyEnd, index: Buffer.alloc(0) };
  }
  const keepUntil = refs[0].start;
  const out: Buffer[] = [];
  let position = BigInt(keepUntil) + base;
  for (const ref of refs) {
    const bytes = part.subarray(ref.start, ref.start + ref.length);
    const rebuilt = ref.kind === 'column' ? Buffer.from(bytes) : shiftPageLocations(bytes, base);
    setI64(ref.chunk, ref.kind === 'column' ? CHUNK.columnIndexOffset : CHUNK.offsetIndexOffset, position);
    setI32(ref.chunk, ref.kind === 'column' ? CHUNK.columnIndexLength : CHUNK.offsetIndexLength, rebuilt.length);
    position += BigInt(rebuilt.length);
    out.push(rebuilt);
  }
  return { keepUntil, index: Buffer.concat(out) };
}

function shiftPageLocations(bytes: Uint8Array, base: bigint): Buffer {
  const index = decodeStruct(bytes).struct;
  const pages = field(index, OFFSET_INDEX_PAGES)?.value as ThriftList | undefined;
  for (const page of (pages?.items ?? []) as ThriftStruct[]) {
    const offset = field(page, PAGE_OFFSET);
    if (offset && offset.type === T.I64) offset.value = (offset.value as bigint) + base;
  }
  return encodeStruct(index);
}

function setI64(s: ThriftStruct, id: number, value: bigint): void {
  const f = field(s, id);
  if (f) f.value = value;
}

function setI32(s: ThriftStruct, id: number, value: number): void {
  const f = field(s, id);
  if (f) f.value = BigInt(value);
}
