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

/** Directory of a partition under `root`; throws if it would not stay inside. */
export function partitionDir(root: string, columns: string[], values: (string | null)[]): string {
  const segments = columns.map((c, i) => `${encodeSegment(c)}=${values[i] === null ? HIVE_NULL : encodeSegment(values[i]!)}`);
  const dir = path.resolve(root, ...segments);
  if (!dir.startsWith(path.resolve(root) + path.sep)) throw new SinkError(`partition path ${dir} escapes the output directory ${root}`);
  return dir;
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

/** Routes rows to one writer per partition, keeping at most `maxOpen` files open. */
export class PartitionRouter {
  private readonly open = new Map<string, Open>();
  private readonly parts = new Map<string, number>();
  readonly files: string[] = [];
  rows = 0;

  constructor(
    private readonly root: string,
    private readonly columns: string[],
    private readonly format: SinkConfig['format'],
    private readonly opts: WriterOptions,
    private readonly maxOpen: number,
    private readonly runId: string,
  ) {}

  async write(batch: RecordBatch): Promise<void> {
    for (const c of this.columns) if (!batch.schema.fields.some((f) => f.name === c)) throw new SinkError(`partition column "${c}" is not in the output (columns: ${batch.schema.fields.map((f) => f.name).join(', ')})`);
    if (batch.numRows === 0) return;
    // The directory values are formatted from the batch itself (its first row of each group),
    // not from polars' copy, which changes some types (time32 → time64[ns], timestamp[s] → [ms]).
    const rowIndex = uniqueName(batch);
    const df = batchToDataFrame(batch).withRowIndex(rowIndex);
    const groups: pl.DataFrame[] = df.partitionBy(this.columns as [string, ...string[]], true, true);
    const keys = this.columns.map((c) => textFormatter(batch.getChild(c)!));
    for (const group of groups) {
      const first = Number(group.getColumn(rowIndex).get(0));
      const dir = partitionDir(this.root, this.columns, keys.map((f) => f(first)));
      const writer = await this.writerFor(dir);
      const rest = group.columns.filter((c) => c !== rowIndex && !this.columns.includes(c));
      for (const b of dataFrameToBatches(group.select(...rest))) await writer.write(b);
      this.rows += group.height;
    }
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
