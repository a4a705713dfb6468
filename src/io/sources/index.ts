/**
 * Sources: input files as a stream of Arrow record batches, pulled one at a time (nothing
 * is read ahead of what the scheduler asks for). Files are read in sorted order; all files
 * of a source must share one schema; every batch knows the file it came from.
 */
import { statSync } from 'node:fs';
import type { Schema } from 'apache-arrow';
import type { BatchWithLease } from './arrow-convert';
import type { Logger } from 'pino';
import { rowCount } from '../../batch/frame-handoff';
import { OwnedBatch } from '../../batch/owned';
import type { SourceConfig } from '../../config/types';
import { FrameReclaimer, type ReclaimOptions } from '../../batch/reclaim';
import { describeSchema, sameSchema } from '../../batch/schema';
import { SourceError } from '../../errors';
import { expandInputs, matchInputsAndLoops, remotePathProblem } from '../../inputs';
import { readArrow } from './arrow';
import { readCsv, readCsvChunks, type CsvInference, type FixedCsvTypes } from './csv';
import { checkCsvHeaders } from './csv/headers';
import type { CsvChunk } from '../../csv/parse';
import type { BadRow } from '../../csv/salvage';
export type { BadRow } from '../../csv/salvage';
import type { NdjsonTypes } from './ndjson-locate';
import { readRowGroups } from '../parquet/file';
import { unitKey, type UnitSpec } from '../../batch/unit-tag';

/*
 * The NDJSON and Parquet readers (14 modules with their helpers) load with the first file of
 * their format: every run's main thread loads this module, most read one format.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on use, see above */
const readNdjson: typeof import('./ndjson').readNdjson = (...args) => (require('./ndjson') as typeof import('./ndjson')).readNdjson(...args);
const readParquet: typeof import('./parquet').readParquet = (...args) => (require('./parquet') as typeof import('./parquet')).readParquet(...args);
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * What a source gives: one owned batch (batch/owned.ts) holding one record batch, numbered in
 * reading order, its `sourceFile` the input's absolute path. The reader releases it (or hands
 * it on) once done with it.
 */
export type SourceBatch = OwnedBatch;

export interface SourceStats {
  files: number;
  rows: number;
  batches: number;
  bytesRead: number;
}

export interface Source {
  readonly files: string[];
  batches(): AsyncGenerator<SourceBatch>;
  close(): Promise<void>;
  stats(): SourceStats;
}

/** `baseDir`: the directory relative paths are read from, taken literally (never a glob); default the working directory. */
/**
 * `only`: of the files `path` names, read these alone (a resumed run's units left to do, io/units).
 * `fixedTypes`: the column types a resumable run fixed once from its first unit (kept in its
 * manifest), instead of inferring them from the first file this run reads.
 */
/**
 * `units`: read these units, in this order (a resumable or cluster run's: whole files, or ranges
 * of a Parquet file's row groups); each item of a range carries the range's unit key as its
 * `sourceFile` (batch/unit-tag.ts), which the run maps back to the file.
 */
export type SourceOptions = SourceConfig & { batchRows: number; baseDir?: string; only?: string[]; units?: UnitSpec[]; fixedTypes?: FixedSourceTypes };

/** Column types fixed by a source's first file (CSV: its inference rows; NDJSON: its first batch). */
export interface FixedSourceTypes {
  csv?: FixedCsvTypes;
  ndjson?: NdjsonTypes;
}

/** The files a source reads: `path` resolved, narrowed to `only` when given. */
function filesOf(cfg: SourceOptions): string[] {
  const all = resolveInputs(cfg.path, cfg.baseDir);
  const wanted = cfg.units?.map((u) => u.file) ?? cfg.only;
  if (!wanted) return all;
  const only = new Set(wanted);
  return all.filter((f) => only.has(f));
}

/**
 * The column types the run's first file fixes, read from its first batch alone (the rows the
 * run would infer them from): a resumable run keeps them in its manifest, so a resumed run
 * reads its later units with the same types (io/units); a cluster driver gives them to every unit.
 */
export async function fixSourceTypes(cfg: SourceOptions, first: string): Promise<FixedSourceTypes> {
  const fixed: FixedSourceTypes = {};
  let reader: AsyncGenerator<BatchWithLease> | undefined;
  // With source.onError skip or dead-letter, a bad row among these is not fatal: the run takes it out (and counts it) when it reads it.
  const salvage = (cfg.onError ?? 'fail') !== 'fail' ? { onBadRow: () => undefined } : {};
  if (cfg.format === 'csv') reader = readCsv({ file: first, cfg, onTypes: (t) => (fixed.csv = t), ...salvage });
  else if (cfg.format === 'ndjson') reader = readNdjson(first, { ...cfg, onTypes: (t) => (fixed.ndjson = t), ...salvage });
  if (reader) {
    const r = await reader.next();
    if (!r.done) r.value.lease?.release();
    await reader.return(undefined);
  }
  return fixed;
}

/** Absolute input files a `path` names (globs expanded), sorted and de-duplicated: the same function `validate` and `explain` use. */
export function resolveInputs(patterns: string | string[], baseDir?: string): string[] {
  for (const p of Array.isArray(patterns) ? patterns : [patterns]) {
    const remote = remotePathProblem(p);
    if (remote) throw new SourceError(remote);
    const { files, loops } = matchInputsAndLoops(p, baseDir);
    if (files.length === 0) throw new SourceError(`no input file matches "${p}"${baseDir ? ` (in ${baseDir})` : ''}`);
    if (loops.length) throw new SourceError(`"${p}" goes round a symlink loop through ${loops.join(', ')} (a link to a folder that holds it); remove the link or narrow the pattern`);
  }
  return expandInputs(patterns, baseDir);
}

export interface OpenSourceOptions {
  log?: Logger;
  readSize?: number;
  /**
   * Free the polars frames that parsing leaves behind, after each batch (batch/reclaim.ts):
   * batches are born in slabs, so parsing allocates too little JavaScript for V8 to collect
   * on its own. Default: a full collection per 128 MiB of growth.
   */
  reclaim?: ReclaimOptions;
  /** CSV: told why each column got its type, once the first file's rows fixed them (`inspect`). */
  onCsvInference?: (inference: CsvInference) => void;
  /** `source.onError` other than `fail` (CSV, NDJSON): rows that cannot be read are told here and left out, not fatal. */
  onBadRow?: (bad: BadRow) => void;
  /**
   * CSV, NDJSON: told once, when the first file's rows fix the column types (before the first
   * batch of that file is yielded); not when `fixedTypes` were given. A resumable run keeps them
   * in its manifest (io/units), so it need not read the first file twice.
   */
  onFixedTypes?: (types: FixedSourceTypes) => void;
  /**
   * Parquet: each batch a stand-in for the frame polars decoded (batch/frame-handoff.ts), for a
   * reader on this thread that takes it by `ctx.toDataFrame` as it is; anything that reads the
   * batch in Arrow converts it then, as without. Set for a vectorised inline chain (plan/chain-batch.ts).
   */
  frames?: boolean;
}

export async function openSource(cfg: SourceOptions, opts: OpenSourceOptions = {}): Promise<Source> {
  const files = filesOf(cfg);
  const reclaimer = new FrameReclaimer(opts.reclaim ?? { growthBytes: 128 * 1024 * 1024 });
  const stats: SourceStats = { files: files.length, rows: 0, batches: 0, bytesRead: 0 };
  let current: AsyncGenerator<BatchWithLease> | undefined;
  let closed = false;
  const onBytes = (n: number) => (stats.bytesRead += n);
  // The first file fixes the column types for every later one (one schema per source): CSV's
  // from its inference rows, NDJSON's from its first batch.
  let csvTypes: FixedCsvTypes | undefined = cfg.fixedTypes?.csv;
  let ndjsonTypes: NdjsonTypes | undefined = cfg.fixedTypes?.ndjson;
  // Not `opts.onFixedTypes?.({ csv: (csvTypes = t) })`: an optional call skips its arguments, the assignment with them.
  const tellTypes = (types: FixedSourceTypes) => opts.onFixedTypes?.(types);

  const readFile = (file: string, groups?: [number, number]): AsyncGenerator<BatchWithLease> => {
    switch (cfg.format) {
      case 'csv':
        return readCsv({ file, cfg, readSize: opts.readSize, onBytes, types: csvTypes, onTypes: (t) => tellTypes({ csv: (csvTypes = t) }), onInference: opts.onCsvInference, ...(opts.onBadRow && { onBadRow: opts.onBadRow }) });
      case 'parquet':
        return readParquet(file, { ...cfg, frames: opts.frames, ...(groups && { groups }) });
      case 'arrow':
        return readArrow(file, cfg);
      case 'ndjson':
        return readNdjson(file, { ...cfg, readSize: opts.readSize, onBytes, types: ndjsonTypes, onTypes: (t) => tellTypes({ ndjson: (ndjsonTypes = t) }), ...(opts.onBadRow && { onBadRow: opts.onBadRow }) });
    }
  };

  async function* batches(): AsyncGenerator<SourceBatch> {
    let first: { schema: Schema; file: string } | undefined;
    // Every header before the first batch: a bad one in the last of many files fails now, not at the end.
    if (cfg.format === 'csv') await checkCsvHeaders(files, cfg);
    for (const unit of cfg.units ?? files.map((file) => ({ file }) as UnitSpec)) {
      const { file } = unit;
      if (closed) return;
      opts.log?.debug({ file, ...(unit.groups && { groups: unit.groups }) }, 'reading');
      current = readFile(file, unit.groups);
      const sourceFile = unitKey(unit);
      let any = false;
      for await (const { batch, lease, backing } of current) {
        any = true;
        if (batch.numCols === 0) {
          lease?.release();
          throw noColumns(cfg.format, file);
        }
        if (!first) first = { schema: batch.schema, file };
        else if (!sameSchema(first.schema, batch.schema)) {
          lease?.release();
          throw new SourceError(`schema differs from ${first.file}: ${describeSchema(batch.schema)} vs ${describeSchema(first.schema)}`, { file });
        }
        stats.rows += rowCount(batch);
        stats.batches++;
        yield new OwnedBatch({ seq: stats.batches - 1, sourceFile, batches: [batch], lease, backing });
        if (cfg.format !== 'arrow') await reclaimer.afterTask();
      }
      // Parquet and Arrow are read by their libraries, not in counted chunks: a file counts when done.
      // A range counts its share of the file's rows.
      if ((cfg.format === 'parquet' || cfg.format === 'arrow') && !closed) stats.bytesRead += (statSync(file, { throwIfNoEntry: false })?.size ?? 0) * (unit.groups ? await rangeShare(file, unit.groups) : 1);
      // CSV gives at least one batch when it has a header (NDJSON may hold no line at all).
      if (!any && !closed && cfg.format === 'csv') throw noColumns('csv', file);
    }
    // A resumed run with every unit done reads nothing (its units are staged): no error.
    if (!first && !closed && !(cfg.only && files.length === 0)) throw new SourceError(`no columns to write: ${files.length === 1 ? 'the input file is' : `all ${files.length} input files are`} empty (${files.join(', ')})`);
  }

  return {
    files,
    batches,
    async close() {
      closed = true;
      await current?.return(undefined);
    },
    stats: () => ({ ...stats }),
  };
}

/** The share of a Parquet file's rows that row groups `groups` (first, last) hold: what a range counts of the file's bytes. */
async function rangeShare(file: string, [first, last]: [number, number]): Promise<number> {
  const groups = await readRowGroups(file);
  const total = groups.reduce((n, g) => n + g.rows, 0);
  return total ? groups.slice(first, last + 1).reduce((n, g) => n + g.rows, 0) / total : 0;
}

/**
 * A file that gives no columns (0 bytes, a BOM alone) is an error, not an output without
 * columns that no reader accepts: with no header there is no schema to write.
 */
function noColumns(format: SourceConfig['format'], file: string): SourceError {
  return new SourceError(format === 'csv' ? 'empty file: no header, so no columns to read' : 'no columns to read (empty input)', { file });
}

/** CSV input as checked chunks of whole rows, for a conversion that parses where it encodes (runtime/direct.ts). */
export interface CsvChunkSource {
  readonly files: string[];
  chunks(): AsyncGenerator<CsvChunk>;
  close(): Promise<void>;
  stats(): SourceStats;
}

/**
 * Every file's chunks of `rowsPerChunk` rows, in the stable file order, with the column
 * types fixed by the first file; a later file with other columns is an error, as it is for
 * batches (one schema per source).
 */
/**
 * `ownChunks`: each chunk owns its text until its `recycle()` (the caller holds several at once).
 * `alignAcrossFiles`: chunk edges fall on multiples of `rowsPerChunk` rows counted over the
 * whole source, not per file: a file's first chunk holds what the chunk the files before it
 * left short still needs, so a consumer that joins consecutive chunks into row groups of
 * `rowsPerChunk` rows (the plain conversion's encoding) ends each group at a chunk edge,
 * however small the files.
 */
export function openCsvChunks(cfg: SourceOptions, rowsPerChunk: number, opts: Pick<OpenSourceOptions, 'log' | 'readSize' | 'onFixedTypes'> & { ownChunks?: boolean; alignAcrossFiles?: boolean } = {}): CsvChunkSource {
  const files = filesOf(cfg);
  const stats: SourceStats = { files: files.length, rows: 0, batches: 0, bytesRead: 0 };
  let current: AsyncGenerator<CsvChunk> | undefined;
  let closed = false;
  let csvTypes: FixedCsvTypes | undefined = cfg.fixedTypes?.csv;
  const tellTypes = (types: FixedSourceTypes) => opts.onFixedTypes?.(types);

  async function* chunks(): AsyncGenerator<CsvChunk> {
    let first: { columns: string[]; file: string } | undefined;
    await checkCsvHeaders(files, cfg);
    /** Rows since the last multiple of `rowsPerChunk`, over all files so far. */
    let carried = 0;
    for (const file of files) {
      if (closed) return;
      opts.log?.debug({ file }, 'reading');
      const firstChunkRows = opts.alignAcrossFiles && carried > 0 ? rowsPerChunk - carried : undefined;
      current = readCsvChunks({ file, cfg, readSize: opts.readSize, onBytes: (n) => (stats.bytesRead += n), types: csvTypes, onTypes: (t) => tellTypes({ csv: (csvTypes = t) }), ownChunks: opts.ownChunks, firstChunkRows }, rowsPerChunk);
      let any = false;
      for await (const chunk of current) {
        any = true;
        const columns = chunk.parse.columns;
        if (columns.length === 0) throw noColumns('csv', file);
        if (!first) first = { columns, file };
        else if (columns.join('\0') !== first.columns.join('\0')) {
          throw new SourceError(`columns differ from ${first.file}: ${columns.join(', ')} vs ${first.columns.join(', ')}`, { file });
        }
        stats.rows += chunk.rows;
        stats.batches++;
        carried = (carried + chunk.rows) % rowsPerChunk;
        yield chunk;
      }
      if (!any && !closed) throw noColumns('csv', file);
    }
  }

  return {
    files,
    chunks,
    async close() {
      closed = true;
      await current?.return(undefined);
    },
    stats: () => ({ ...stats }),
  };
}
