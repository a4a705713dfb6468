/**
 * A Parquet input pinned for the whole read: one open file descriptor from the footer to
 * the last row group, so a file replaced (`mv`) meanwhile is still read as planned (the
 * descriptor keeps the old inode), and a file changed in place (size or mtime differ from
 * when it was opened) is an error naming it, never a mix of old and new rows.
 *
 * polars is handed each row group as a small standalone Parquet file built here (the
 * group's column chunks, read through the descriptor, and a footer listing only that group
 * with its offsets shifted), because polars can only reopen a path, which may by then be
 * another file.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { SourceError } from '../../errors';
import { assertUnchanged } from '../file-identity';
import { T, ThriftError, decodeStruct, encodeStruct, field, type ThriftList, type ThriftStruct, type Value } from './thrift';

const MAGIC = Buffer.from('PAR1', 'latin1');
const FILE = { schema: 2, numRows: 3, rowGroups: 4 } as const;
const ROW_GROUP = { columns: 1, numRows: 3, fileOffset: 5, ordinal: 7 } as const;
const CHUNK = { fileOffset: 2, meta: 3 } as const;
/** ColumnChunk page index pointers, and ColumnMetaData bloom filter: not carried into a group's file. */
const CHUNK_DROPPED: readonly number[] = [4, 5, 6, 7];
const META_DROPPED: readonly number[] = [14, 15];
const META = { totalCompressed: 7, dataPage: 9, indexPage: 10, dictionaryPage: 11 } as const;

export interface RowGroupInfo {
  rows: number;
  /** Row index of the group's first row in the file. */
  offset: number;
}

export interface PinnedParquet {
  readonly file: string;
  /** The decoded footer (FileMetaData). */
  readonly meta: ThriftStruct;
  readonly groups: RowGroupInfo[];
  /** Row group `index` as a whole Parquet file of its own. */
  groupFile(index: number): Promise<Buffer>;
  /** The schema alone, as a Parquet file of no rows (for a file without row groups). */
  schemaFile(): Buffer;
  close(): Promise<void>;
}

export function rowGroupsOf(meta: ThriftStruct): ThriftStruct[] {
  return ((field(meta, FILE.rowGroups)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
}

const num = (s: ThriftStruct | undefined, id: number): number | undefined => {
  const v = s && field(s, id)?.value;
  return typeof v === 'bigint' ? Number(v) : undefined;
};

export interface OpenOptions {
  /**
   * Changes the decoded footer before any row group's file is built from it (arrow-hint.ts);
   * returns true if it changed something, and every group's footer then carries the change.
   */
  rewrite?: (meta: ThriftStruct) => boolean;
}

export async function openParquet(file: string, opts: OpenOptions = {}): Promise<PinnedParquet> {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new SourceError(`cannot open (${err.code ?? err.message})`, { file }, err);
  });
  try {
    const planned = await handle.stat();
    let footer = await readFooter(handle, planned.size, file);
    const meta = decodeFooter(footer, file);
    if (opts.rewrite?.(meta)) footer = encodeStruct(meta);
    let offset = 0;
    const groups = rowGroupsOf(meta).map((g) => {
      const rows = num(g, ROW_GROUP.numRows) ?? 0;
      const info = { rows, offset };
      offset += rows;
      return info;
    });
    return {
      file,
      meta,
      groups,
      async groupFile(index) {
        await assertUnchanged(handle, planned, file);
        // A fresh decode: the group's offsets are rewritten for its own file.
        return groupFile(handle, decodeFooter(footer, file), index, file);
      },
      schemaFile: () => withFooter([MAGIC], decodeFooter(footer, file), []),
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The row-group layout of a Parquet file (rows and first row of each group). */
export async function readRowGroups(file: string): Promise<RowGroupInfo[]> {
  const pinned = await openParquet(file);
  await pinned.close();
  return pinned.groups;
}

async function readFooter(handle: FileHandle, size: number, file: string): Promise<Buffer> {
  if (size < 12) throw new SourceError('not a Parquet file (too short)', { file });
  const tail = Buffer.alloc(8);
  await handle.read(tail, 0, 8, size - 8);
  if (tail.toString('latin1', 4) !== 'PAR1') throw new SourceError('not a Parquet file (no PAR1 magic at the end)', { file });
  const length = tail.readUInt32LE(0);
  if (length > size - 12) throw new SourceError('corrupt Parquet footer (length beyond the file)', { file });
  const footer = Buffer.alloc(length);
  await handle.read(footer, 0, length, size - 8 - length);
  return footer;
}

function decodeFooter(footer: Buffer, file: string): ThriftStruct {
  try {
    return decodeStruct(footer).struct;
  } catch (err) {
    if (err instanceof ThriftError) throw new SourceError(`corrupt Parquet footer: ${err.message}`, { file });
    throw err;
  }
}

async function groupFile(handle: FileHandle, meta: ThriftStruct, index: number, file: string): Promise<Buffer> {
  const group = rowGroupsOf(meta)[index];
  const chunks = (field(group, ROW_GROUP.columns)?.value as ThriftList).items as ThriftStruct[];
  let start = Infinity;
  let end = 0;
  for (const chunk of chunks) {
    const m = field(chunk, CHUNK.meta)?.value as ThriftStruct | undefined;
    const first = Math.min(...[META.dictionaryPage, META.dataPage, META.indexPage].map((id) => num(m, id) ?? Infinity));
    const size = num(m, META.totalCompressed);
    if (!Number.isFinite(first) || size === undefined) throw new SourceError(`corrupt Parquet footer: row group ${index} has a column chunk without page offsets`, { file });
    start = Math.min(start, first);
    end = Math.max(end, first + size);
  }
  const pages = Buffer.alloc(Math.max(0, end - start));
  const { bytesRead } = await handle.read(pages, 0, pages.length, start);
  if (bytesRead !== pages.length) throw new SourceError(`truncated: row group ${index} ends at byte ${end}, beyond the file`, { file });
  const shift = BigInt(MAGIC.length - start);
  const move = (s: ThriftStruct, ids: readonly number[]) => {
    for (const f of s.fields) if (ids.includes(f.id) && f.type === T.I64) f.value = (f.value as bigint) + shift;
  };
  move(group, [ROW_GROUP.fileOffset]);
  const ordinal = field(group, ROW_GROUP.ordinal);
  if (ordinal) ordinal.value = 0n;
  for (const chunk of chunks) {
    chunk.fields = chunk.fields.filter((f) => !CHUNK_DROPPED.includes(f.id));
    move(chunk, [CHUNK.fileOffset]);
    const m = field(chunk, CHUNK.meta)?.value as ThriftStruct | undefined;
    if (m) {
      m.fields = m.fields.filter((f) => !META_DROPPED.includes(f.id));
      move(m, [META.dataPage, META.indexPage, META.dictionaryPage]);
    }
  }
  return withFooter([MAGIC, pages], meta, [group]);
}

/** `body` followed by `meta`'s footer listing only `groups`. */
function withFooter(body: Buffer[], meta: ThriftStruct, groups: ThriftStruct[]): Buffer {
  const rows = groups.reduce((n, g) => n + ((field(g, ROW_GROUP.numRows)?.value as bigint | undefined) ?? 0n), 0n);
  const fields = meta.fields.map((f) => {
    if (f.id === FILE.numRows) return { ...f, value: rows as Value };
    if (f.id === FILE.rowGroups) return { ...f, value: { kind: 'list', type: T.LIST, elementType: T.STRUCT, items: groups } as ThriftList };
    return f;
  });
  const footer = encodeStruct({ kind: 'struct', fields });
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(footer.length, 0);
  MAGIC.copy(tail, 4);
  return Buffer.concat([...body, footer, tail]);
}
