/**
 * The columns a source will produce, read from its first file only (all files of a source
 * share one schema) and as cheaply as the format allows, so `validate` and `run` can check
 * the column names a config uses before anything starts. Each format is probed through the
 * code its reader runs, so the probe says what the run will see:
 *  - CSV: the reader's first chunk (header, then types inferred from `inferRows` rows), or
 *    its header row alone;
 *  - Parquet: the footer (sluice's reader and type check, then polars on a no-row copy);
 *  - Arrow IPC: the schema message;
 *  - NDJSON: the reader's first batch, whose schema the reader fixes for the whole file.
 * The projection (`columns`) and `schema` are left out: the probe lists every column the file
 * has, and the checks compare their keys with it.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { RecordBatchReader } from 'apache-arrow';
import { polars } from '../../batch/lazy-polars';
import { SourceError } from '../../errors';
import type { BatchWithLease } from './arrow-convert';
import { readCsvChunks, readCsvColumns } from './csv';
import { hiveColumns } from './hive';
import { openParquet } from '../parquet/file';
import { forPolars } from '../parquet/for-polars';

// The NDJSON reader loads with the first NDJSON file (index.ts: readers by format, on use).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const readNdjson: typeof import('./ndjson').readNdjson = (...args) => (require('./ndjson') as typeof import('./ndjson')).readNdjson(...args);
import type { SourceOptions } from './index';

export interface SourceColumns {
  /** The file the columns were read from. */
  file: string;
  /** Column names in file order. */
  names: string[];
}

/**
 * Columns of `file` as the source reads them; undefined for a file with no columns (empty).
 * `namesOnly`: a CSV's header row only, not its first chunk of rows (`run` needs the names
 * and leaves a bad row to the run; `validate` reads the chunk to report it before any run).
 */
export async function probeColumns(file: string, cfg: SourceOptions, opts: { namesOnly?: boolean } = {}): Promise<SourceColumns | undefined> {
  const all = { ...cfg, columns: undefined, schema: undefined }; // both checked against what this returns
  const names = await namesOf(file, all, opts.namesOnly ?? false);
  return names && names.length ? { file, names } : undefined;
}

async function namesOf(file: string, cfg: SourceOptions, namesOnly: boolean): Promise<string[] | undefined> {
  switch (cfg.format) {
    case 'csv': {
      if (namesOnly) return readCsvColumns({ file, cfg });
      const chunks = readCsvChunks({ file, cfg }, 1); // one chunk of `inferRows` rows: what inference reads
      try {
        const first = await chunks.next();
        return first.done ? undefined : first.value.parse.columns;
      } finally {
        await chunks.return(undefined);
      }
    }
    case 'parquet':
      return withHive(file, await parquetNames(file));
    case 'arrow':
      return withHive(file, await arrowNames(file));
    case 'ndjson':
      return firstBatchNames(readNdjson(file, cfg));
  }
}

/**
 * The footer through the reader's own code: its type check first (polars aborts the process
 * on some types, so it must not see them), then polars names the columns of a no-row copy.
 */
async function parquetNames(file: string): Promise<string[]> {
  const pinned = await openParquet(file, { rewrite: forPolars(file) });
  try {
    return polars().readParquet(pinned.schemaFile()).columns;
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(`cannot read the Parquet footer: ${(err as Error).message}`, { file }, err);
  } finally {
    await pinned.close();
  }
}

/** The Hive columns the readers add (`key=value` directories), after the file's own. */
function withHive(file: string, names: string[]): string[] {
  return [...names, ...hiveColumns(file).map(([key]) => key).filter((key) => !names.includes(key))];
}

async function arrowNames(file: string): Promise<string[]> {
  const handle = await open(file, 'r');
  try {
    const magic = Buffer.alloc(6);
    await handle.read(magic, 0, 6, 0);
    const isFile = magic.toString('latin1') === 'ARROW1';
    const stream = isFile ? undefined : createReadStream(file);
    try {
      const reader = stream ? await RecordBatchReader.from(stream) : await RecordBatchReader.from(handle);
      await reader.open();
      return reader.schema.fields.map((f) => f.name);
    } catch (err) {
      throw new SourceError(`not an Arrow IPC file or stream: ${(err as Error).message}`, { file }, err);
    } finally {
      stream?.destroy();
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function firstBatchNames(batches: AsyncGenerator<BatchWithLease>): Promise<string[] | undefined> {
  try {
    const first = await batches.next();
    if (first.done) return undefined;
    first.value.lease?.release();
    return first.value.batch.schema.fields.map((f) => f.name);
  } finally {
    await batches.return(undefined);
  }
}
