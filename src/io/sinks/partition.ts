/**
 * Hive-style partitioned output: `<root>/day=2026-11-24/part-00000-<run>.parquet`.
 * Partition values come from data, so they are encoded before they touch a path: every
 * byte outside [A-Za-z0-9_-.] is percent-encoded (so `/`, `\`, `%`, `=` and control
 * characters cannot form path syntax) and a leading dot is encoded too (no `.`, `..` or
 * hidden names). Null and '' map to Hive's `__HIVE_DEFAULT_PARTITION__`. A resolved path
 * outside the root is refused anyway.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type pl from 'nodejs-polars';
import { batchToDataFrame, dataFrameToBatches } from '../../batch/polars';
import { partitionOf, ROOT_PARTITION, tagPartition } from '../../batch/partition-tag';
import { SinkError } from '../../errors';
import { textFormatter } from './writers/values';
import { createWriter, EXTENSIONS, type FormatWriter, type WriterOptions } from './writers';
import type { SinkConfig } from '../../config/types';

export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

export function encodeSegment(text: string): string {
  if (text === '') return HIVE_NULL;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.-]/.test(c) && !(c === '.' && out === '') ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A partition's path relative to the output's root: `day=2026-11-24/country=FR`. */
export function partitionPath(columns: string[], values: (string | null)[]): string {
  return columns.map((c, i) => `${encodeSegment(c)}=${values[i] === null ? HIVE_NULL : encodeSegment(values[i]!)}`).join('/');
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

interface Open {
  writer: FormatWriter;
}

/**
 * Writes each batch to its partition's file, keeping at most `maxOpen` files open. In a run the
 * batches come routed and tagged (the partitioning stage; Parquet parts from the encoding stage
 * after it); a batch without a tag (a sink used on its own) is split here.
 */
export class PartitionRouter {
  private readonly open = new Map<string, Open>();
  private readonly parts = new Map<string, number>();
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
      return hit.writer;
    }
    if (this.open.size >= this.maxOpen) {
      const [oldest, entry] = this.open.entries().next().value as [string, Open];
      this.open.delete(oldest);
      await entry.writer.close();
    }
    mkdirSync(dir, { recursive: true });
    const n = this.parts.get(dir) ?? 0;
    this.parts.set(dir, n + 1);
    const file = path.join(dir, `part-${String(n).padStart(5, '0')}-${this.runId}.${EXTENSIONS[this.format]}`);
    this.files.push(file);
    const writer = createWriter(this.format, file, this.opts);
    this.all.push(writer);
    this.open.set(dir, { writer });
    return writer;
  }

  async close(): Promise<void> {
    for (const { writer } of this.open.values()) await writer.close();
    this.open.clear();
  }

  async abort(): Promise<void> {
    for (const { writer } of this.open.values()) await writer.abort();
    this.open.clear();
  }
}
