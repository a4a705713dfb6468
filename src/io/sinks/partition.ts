/**
 * Hive-style partitioned output: `<root>/day=2026-11-24/part-00000-<run>.parquet`.
 * Partition values come from data, so they are encoded before they touch a path: every
 * byte outside [A-Za-z0-9_-.] is percent-encoded (so `/`, `\`, `%`, `=` and control
 * characters cannot form path syntax) and a leading dot is encoded too (no `.`, `..` or
 * hidden names). A resolved path outside the root is refused anyway.
 *
 * Every value reads back as written (DuckDB's hive_partitioning and sluice's own reader
 * decode the escapes): null is Hive's `__HIVE_DEFAULT_PARTITION__`; a string that is that
 * marker has its first `_` escaped (`%5F_HIVE_DEFAULT_PARTITION__`), so it stays a string;
 * the empty string is an empty value (`key=`), not null. A directory name longer than a file
 * system takes (255 bytes) is refused, naming the column; so are two values that differ only
 * in case on a file system that ignores case (PartitionRouter).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type pl from 'nodejs-polars';
import { batchToDataFrame, dataFrameToBatches } from '../../batch/polars';
import { partitionOf, ROOT_PARTITION, tagPartition } from '../../batch/partition-tag';
import { SinkError } from '../../errors';
import { textFormatter } from '../../batch/text-values';
import { createWriter, EXTENSIONS, type FormatWriter, type WriterOptions } from './writers';
import type { SinkConfig } from '../../config/types';

export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/** The most bytes in one directory name on common file systems (ext4, APFS, NTFS: 255). */
export const MAX_SEGMENT_BYTES = 255;

/** A value (or column name) as one path segment: percent-escapes, see above. */
export function encodeSegment(text: string): string {
  // The marker itself would read back as null: escape its first byte, as any escape reads back as the byte.
  if (text === HIVE_NULL) return `%5F${HIVE_NULL.slice(1)}`;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.-]/.test(c) && !(c === '.' && out === '') ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A partition's path relative to the output's root: `day=2026-11-24/country=FR`. */
export function partitionPath(columns: string[], values: (string | null)[]): string {
  return columns
    .map((c, i) => {
      if (c === '') throw new SinkError('a partition column named "" cannot name a directory (key=value needs a key); rename the column in a stage');
      const segment = `${encodeSegment(c)}=${values[i] === null ? HIVE_NULL : encodeSegment(values[i]!)}`;
      if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
        const value = values[i]!;
        throw new SinkError(
          `partition value of column "${c}" is too long for a directory name: ${JSON.stringify(value.slice(0, 40))}… (${Buffer.byteLength(value)} bytes) makes ${Buffer.byteLength(segment)} bytes encoded, more than the ${MAX_SEGMENT_BYTES} a file system takes; partition by a shorter column (e.g. a hash or a prefix of it, made in a stage)`,
        );
      }
      return segment;
    })
    .join('/');
}

/** Directory of a partition under `root`; throws if it would not stay inside. */
export function partitionDir(root: string, columns: string[], values: (string | null)[]): string {
  return insideRoot(root, partitionPath(columns, values));
}

function insideRoot(root: string, relative: string): string {
  const dir = path.resolve(root, ...relative.split('/'));
  if (!dir.startsWith(path.resolve(root) + path.sep)) throw new SinkError(`partition path ${dir} escapes the output directory ${root}`);
  return dir;
}

/**
 * The batch's rows routed to their partitions: one batch per partition present, without the
 * partition columns (they are in the path), each tagged with its partition (batch/partition-tag.ts).
 */
export function splitByPartition(batch: RecordBatch, columns: string[]): RecordBatch[] {
  for (const c of columns) if (!batch.schema.fields.some((f) => f.name === c)) throw new SinkError(`partition column "${c}" is not in the output (columns: ${batch.schema.fields.map((f) => f.name).join(', ')})`);
  if (batch.numRows === 0) return [];
  // The directory values are formatted from the batch itself (its first row of each group),
  // not from polars' copy, which changes some types (time32 → time64[ns], timestamp[s] → [ms]).
  const rowIndex = uniqueName(batch);
  const df = batchToDataFrame(batch).withRowIndex(rowIndex);
  const groups: pl.DataFrame[] = df.partitionBy(columns as [string, ...string[]], true, true);
  const keys = columns.map((c) => textFormatter(batch.getChild(c)!));
  const out: RecordBatch[] = [];
  for (const group of groups) {
    const first = Number(group.getColumn(rowIndex).get(0));
    const partition = partitionPath(columns, keys.map((f) => f(first)));
    const rest = group.columns.filter((c) => c !== rowIndex && !columns.includes(c));
    for (const b of dataFrameToBatches(group.select(...rest))) out.push(tagPartition(b, partition));
  }
  return out;
}

/** A column name the batch does not use, for the row index. */
function uniqueName(batch: RecordBatch): string {
  let name = '__sluice_row';
  while (batch.schema.fields.some((f) => f.name === name)) name += '_';
  return name;
}

/**
 * Writes each batch to its partition's file, keeping at most `maxOpen` file descriptors open.
 * In a run the batches come routed and tagged (the partitioning stage; Parquet parts from the
 * encoding stage after it); a batch without a tag (a sink used on its own) is split here.
 *
 * One file per partition per run: a partition whose descriptor was let go to stay within
 * `maxOpen` is written on in the same file when its rows come back (FormatWriter.suspend).
 * Before that, every return opened a new part file, and rows spread over many batches made
 * several files per partition (972 partitions, 32 open: 4 856 files). Only a writer that
 * cannot continue a file (a Parquet file its sink encodes itself, outside a run) is closed
 * and followed by a new part file.
 */
export class PartitionRouter {
  /** Writers with an open descriptor, least recently used first (the Map's order). */
  private readonly open = new Map<string, FormatWriter>();
  /** Every partition's writer not yet closed, open or suspended. */
  private readonly writers = new Map<string, FormatWriter>();
  private readonly parts = new Map<string, number>();
  /** Partition directories by their lower-case path: two that differ only in case are one directory on a case-insensitive file system. */
  private readonly folded = new Map<string, string>();
  readonly files: string[] = [];
  /** Every writer opened, closed ones too. */
  private readonly all: FormatWriter[] = [];

  constructor(
    private readonly root: string,
    private readonly columns: string[],
    private readonly format: SinkConfig['format'],
    private readonly opts: WriterOptions,
    private readonly maxOpen: number,
    private readonly runId: string,
  ) {}

  async write(batch: RecordBatch): Promise<void> {
    const partition = partitionOf(batch);
    // No partition columns (an incremental run's directory of parts): every row at the root.
    if (partition === undefined && this.columns.length === 0) {
      await (await this.writerFor(this.root)).write(batch);
      return;
    }
    if (partition === undefined) {
      for (const routed of splitByPartition(batch, this.columns)) await this.write(routed);
      return;
    }
    await (await this.writerFor(partition === ROOT_PARTITION ? this.root : insideRoot(this.root, partition))).write(batch);
  }

  /** Rows written to every file so far (a Parquet file counts its rows as their row groups are written: final once closed). */
  get rows(): number {
    return this.all.reduce((n, w) => n + w.rows, 0);
  }

  private async writerFor(dir: string): Promise<FormatWriter> {
    const hit = this.open.get(dir);
    if (hit) {
      this.open.delete(dir); // re-insert: the Map's order is the LRU order
      this.open.set(dir, hit);
      return hit;
    }
    if (this.open.size >= this.maxOpen) {
      const [oldest, writer] = this.open.entries().next().value as [string, FormatWriter];
      this.open.delete(oldest);
      if (writer.suspend) writer.suspend();
      else {
        this.writers.delete(oldest);
        await writer.close();
      }
    }
    const suspended = this.writers.get(dir);
    if (suspended) {
      this.open.set(dir, suspended);
      return suspended;
    }
    this.checkCase(dir);
    mkdirSync(dir, { recursive: true });
    const n = this.parts.get(dir) ?? 0;
    this.parts.set(dir, n + 1);
    const file = path.join(dir, `part-${String(n).padStart(5, '0')}-${this.runId}.${EXTENSIONS[this.format]}`);
    this.files.push(file);
    const writer = createWriter(this.format, file, this.opts);
    this.all.push(writer);
    this.writers.set(dir, writer);
    this.open.set(dir, writer);
    return writer;
  }

  /**
   * Values that differ only in case (`FR`, `fr`) are two partitions, but one directory where
   * the file system ignores case (macOS, Windows): their rows would be mixed without a word.
   * Seen here as the other one's directory already existing before this one is made.
   */
  private checkCase(dir: string): void {
    const key = dir.toLowerCase();
    const other = this.folded.get(key);
    if (other === undefined) this.folded.set(key, dir);
    else if (other !== dir && existsSync(dir) && statSync(dir).ino === statSync(other).ino) {
      throw new SinkError(
        `partitions ${path.relative(this.root, other)} and ${path.relative(this.root, dir)} differ only in case, and this file system does not tell them apart: their rows would be mixed in one directory; normalise the case of the values in a stage (e.g. lower-case them) or write to a case-sensitive file system`,
      );
    }
  }

  async close(): Promise<void> {
    for (const writer of this.writers.values()) await writer.close();
    this.writers.clear();
    this.open.clear();
  }

  async abort(): Promise<void> {
    for (const writer of this.writers.values()) await writer.abort();
    this.writers.clear();
    this.open.clear();
  }
}
