/**
 * Sinks: batches to Parquet / CSV / NDJSON / Arrow, atomically. Everything is written
 * under a hidden temporary sibling and renamed into place on commit (plus `_SUCCESS` in
 * directory outputs); abort removes the temporary and leaves the previous output as it was.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import type { SinkConfig } from '../../config/types';
import { SinkError } from '../../errors';
import { commitRename, fsyncPath, fsyncTree, removeQuietly, tempSibling } from './atomic';
import { PartitionRouter } from './partition';
import type { CsvChunk } from '../sources/csv';
import { createWriter, type FormatWriter } from './writers';

export interface SinkResult {
  path: string;
  files: string[];
  rows: number;
  batches: number;
  bytes: number;
}

export interface Sink {
  /** When the promise resolves the sink no longer reads `batch`'s memory. */
  write(batch: RecordBatch, meta: { seq: number; sourceFile?: string }): Promise<void>;
  /** Present when the sink can parse CSV text where it encodes (one Parquet file): runtime/direct.ts. */
  writeCsv?: (chunk: CsvChunk) => Promise<void>;
  commit(): Promise<SinkResult>;
  /** Remove every temporary file; never throws. */
  abort(): Promise<void>;
}

export async function openSink(cfg: SinkConfig, opts: { log?: Logger } = {}): Promise<Sink> {
  const target = path.resolve(cfg.path);
  const mode = cfg.mode ?? 'overwrite';
  const exists = existsSync(target);
  if (mode === 'error-if-exists' && exists) {
    throw new SinkError(`${target} already exists and sink.mode is "error-if-exists" (use "overwrite" to replace it or "append" to add to it)`);
  }
  if (exists && !cfg.partitionBy && statSync(target).isDirectory()) {
    throw new SinkError(`${target} is a directory; a sink without partitionBy writes one file`);
  }
  const append = mode === 'append' && exists;
  if (append && !cfg.partitionBy && (cfg.format === 'parquet' || cfg.format === 'arrow')) {
    throw new SinkError(`sink.mode "append" cannot add to an existing ${cfg.format} file (${target}): its footer would have to be rewritten; write a partitioned directory (partitionBy) or use "overwrite"`);
  }
  mkdirSync(path.dirname(target), { recursive: true });
  const sink = cfg.partitionBy ? new DirectorySink(cfg, target, append) : new FileSink(cfg, target, append);
  opts.log?.debug({ target, mode, temp: sink.temp }, 'sink opened');
  return sink;
}

class FileSink implements Sink {
  readonly temp: string;
  readonly writeCsv?: (chunk: CsvChunk) => Promise<void>;
  private readonly writer: FormatWriter;
  private batches = 0;
  private done = false;

  constructor(
    cfg: SinkConfig,
    private readonly target: string,
    append: boolean,
  ) {
    this.temp = tempSibling(target);
    // Appending works on a copy, so a failed run still leaves the original untouched.
    if (append) copyFileSync(target, this.temp);
    this.writer = createWriter(cfg.format, this.temp, { compression: cfg.compression, rowGroupSize: cfg.rowGroupSize, append });
    const writer = this.writer;
    if (writer.writeCsv) {
      this.writeCsv = async (chunk: CsvChunk) => {
        await writer.writeCsv!(chunk);
        this.batches++;
      };
    }
  }

  async write(batch: RecordBatch): Promise<void> {
    await this.writer.write(batch);
    this.batches++;
  }

  async commit(): Promise<SinkResult> {
    await this.writer.close();
    if (!existsSync(this.temp)) writeFileSync(this.temp, '');
    await fsyncPath(this.temp);
    const bytes = statSync(this.temp).size;
    await commitRename(this.temp, this.target);
    this.done = true;
    return { path: this.target, files: [this.target], rows: this.writer.rows, batches: this.batches, bytes };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    await this.writer.abort();
    await removeQuietly(this.temp);
  }
}

class DirectorySink implements Sink {
  readonly temp: string;
  private readonly router: PartitionRouter;
  private batches = 0;
  private done = false;

  constructor(
    cfg: SinkConfig,
    private readonly target: string,
    append: boolean,
  ) {
    this.temp = tempSibling(target);
    mkdirSync(this.temp, { recursive: true });
    // Appending: hard-link the existing files into the new tree, then swap the whole tree.
    if (append) linkTree(target, this.temp);
    const runId = randomBytes(4).toString('hex');
    this.router = new PartitionRouter(this.temp, cfg.partitionBy!, cfg.format, { compression: cfg.compression, rowGroupSize: cfg.rowGroupSize }, cfg.maxOpenFiles ?? 32, runId);
  }

  async write(batch: RecordBatch): Promise<void> {
    await this.router.write(batch);
    this.batches++;
  }

  async commit(): Promise<SinkResult> {
    await this.router.close();
    writeFileSync(path.join(this.temp, '_SUCCESS'), '');
    await fsyncTree(this.temp);
    const files = this.router.files.map((f) => path.join(this.target, path.relative(this.temp, f)));
    const bytes = this.router.files.reduce((n, f) => n + statSync(f).size, 0);
    await commitRename(this.temp, this.target);
    this.done = true;
    return { path: this.target, files, rows: this.router.rows, batches: this.batches, bytes };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    await this.router.abort();
    await removeQuietly(this.temp);
  }
}

function linkTree(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.name === '_SUCCESS') continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) {
      mkdirSync(dst, { recursive: true });
      linkTree(src, dst);
    } else linkSync(src, dst);
  }
}
