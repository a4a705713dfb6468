/**
 * `sink.mode: "append"` to a partitioned output adds new files beside the old ones, and
 * nothing compared their schemas: a run whose rows had another type (or other columns) was
 * accepted, and the dataset then held two schemas in one partition, which DuckDB refuses to
 * read ("schema mismatch"). The rows to add are compared with a file already there before
 * anything is written (from the sink's one schema check, output-schema.ts): the same columns
 * in the same order (the partition columns are in the paths, not in the files), and for
 * Parquet and Arrow the same types (as polars writes them / without nullable flags).
 * Single files: CSV and NDJSON check their header (append-check.ts); Parquet and Arrow files
 * are not appended to at all.
 */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { RecordBatchReader, type Field, type RecordBatch } from 'apache-arrow';
import type pl from 'nodejs-polars';
import { polars } from '../../batch/lazy-polars'; // only a Parquet append needs it
import { wellFormedEmpty } from '../../batch/empty';
import { batchToDataFrame } from '../../batch/polars';
import { columnTypes } from '../../batch/polars-types';
import type { SinkConfig } from '../../config/types';
import { SinkError } from '../../errors';
import { firstRecord } from './writers/append-check';
import { EXTENSIONS } from './writers';
import { typeKey } from './output-schema';

interface Column {
  name: string;
  /** How the format stores its type, when it has types. */
  type?: string;
}

/**
 * The check of the rows to add, or undefined when there is nothing to append to. `directory`:
 * the sink writes a directory of part files without partitionBy (an incremental run's part
 * beside the earlier ones): checked the same way.
 */
export async function appendSchemaCheck(cfg: SinkConfig, directory = false): Promise<((batch: RecordBatch, place: string) => void) | undefined> {
  if (cfg.mode !== 'append' || !(cfg.partitionBy || directory)) return undefined;
  const root = path.resolve(cfg.path);
  const file = firstFile(root, `.${EXTENSIONS[cfg.format]}`);
  if (!file) return undefined;
  const partitions = new Set(cfg.partitionBy ?? []);
  // A file of the output without rows (at the root) holds the partition columns too.
  const existing = (await columnsOf(file, cfg.format)).filter((c) => !partitions.has(c.name));
  return (batch, place) => {
    const adding = newColumns(batch, cfg.format).filter((c) => !partitions.has(c.name));
    const names = (cs: Column[]) => cs.map((c) => c.name);
    const refuse = (what: string) =>
      new SinkError(`cannot append to ${root}: ${what} (${place}); sink.mode "append" needs the same columns, in the same order, of the same types: cast or select them in a stage, or use "overwrite"`);
    if (names(adding).join('\0') !== names(existing).join('\0')) {
      throw refuse(`the rows to add have columns (${names(adding).join(', ')}) but ${file} has (${names(existing).join(', ')})`);
    }
    adding.forEach((c, i) => {
      if (c.type !== existing[i].type) throw refuse(`column "${c.name}" is ${c.type} in the rows to add but ${existing[i].type} in ${file}`);
    });
  };
}

/** A data file of the output (not hidden, not a temporary): the first in name order, depth first. */
function firstFile(dir: string, ext: string): string | undefined {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return undefined;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
    const p = path.join(dir, e.name);
    if (e.isFile() && e.name.endsWith(ext)) return p;
    if (e.isDirectory()) {
      const found = firstFile(p, ext);
      if (found) return found;
    }
  }
  return undefined;
}

async function columnsOf(file: string, format: SinkConfig['format']): Promise<Column[]> {
  try {
    switch (format) {
      case 'parquet':
        return polarsColumns(polars().scanParquet(file).limit(0).collectSync());
      case 'arrow': {
        const reader = await RecordBatchReader.from(await open(file));
        await reader.open();
        const fields = reader.schema.fields;
        await reader.cancel();
        return fields.map((f: Field) => ({ name: f.name, type: typeKey(f.type, true) }));
      }
      case 'csv':
        return (firstRecord(head(file)) ?? []).map((name) => ({ name }));
      case 'ndjson': {
        const line = head(file).replace(/^\uFEFF/, '').split('\n', 1)[0].trim();
        return line ? Object.keys(JSON.parse(line) as object).map((name) => ({ name })) : [];
      }
    }
  } catch (err) {
    throw new SinkError(`cannot append to ${path.dirname(file)}: cannot read the columns of ${file}`, err);
  }
}

function newColumns(batch: RecordBatch, format: SinkConfig['format']): Column[] {
  if (format === 'parquet') return polarsColumns(batchToDataFrame(wellFormedEmpty(batch.slice(0, 0))));
  if (format === 'arrow') return batch.schema.fields.map((f) => ({ name: f.name, type: typeKey(f.type, true) }));
  return batch.schema.fields.map((f) => ({ name: f.name }));
}

function polarsColumns(df: pl.DataFrame): Column[] {
  // Not df.dtypes: a binary column would print a Rust panic (batch/polars-types.ts).
  return columnTypes(df);
}

/** The first 1 MiB of a text file: its header line. */
function head(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1024 * 1024);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

