/**
 * What a source would read, without running anything after it (`sluice inspect`). Every
 * fact comes from the code a run uses, so what `inspect` says is what `run` does:
 *  - schema and first rows: the source itself (`openSource`, the same readers, options,
 *    projection, Hive columns and CSV inference), its first batches;
 *  - why each CSV column has its type: the record the CSV reader's inference made
 *    (csv/infer.ts `explainColumn`, the one implementation of inference);
 *  - rows: Parquet from each footer (with its row groups, bytes and codecs); CSV by the
 *    reader's row scanner over every file (field counts and UTF-8 checked, values not
 *    parsed); Arrow and NDJSON by reading every batch as a run does.
 * Files that would not make one source (other columns, another schema) fail as a run fails.
 */
import { statSync } from 'node:fs';
import type { Schema } from 'apache-arrow';
import pl from 'nodejs-polars';
import { columnTypes } from '../../batch/polars-types';
import { SourceError } from '../../errors';
import type { CsvType } from '../../csv/infer';
import { openParquet } from '../parquet/file';
import { parquetLayout, type ParquetLayout } from '../parquet/layout';
import { forPolars } from '../parquet/for-polars';
import { uuidColumns } from '../parquet/uuid';
import type { CsvInference } from '../sources/csv';
import { hiveColumns } from '../sources/hive';
import { openCsvChunks, openSource, resolveInputs, type SourceOptions } from '../sources';
import { csvReason } from './csv-reasons';
import { addPreviewRows, emptyPreview, type PreviewRows } from './preview';

export interface InspectedColumn {
  name: string;
  /** The Arrow type a run's batches have (as apache-arrow names it: Int64, Utf8View, Timestamp<MILLISECOND>, …). */
  type: string;
  nullable: boolean;
  /** `path`: a Hive partition column, from `key=value` directories (text); `uuid`: a Parquet UUID, read as its text (parquet/uuid.ts). */
  origin: 'file' | 'path' | 'uuid';
  /** CSV: the type inference gave, and why. */
  csv?: { type: CsvType; reason: string; line?: number };
}

export interface InspectedFile {
  file: string;
  bytes: number;
  rows: number;
  /** `key=value` directories of its path. */
  hive: Record<string, string | null>;
  parquet?: ParquetLayout;
}

export interface Inspection {
  format: SourceOptions['format'];
  files: InspectedFile[];
  rows: number;
  schema: InspectedColumn[];
  /** Where the types come from: CSV's sampled rows (`inferRows` from `firstLine` of `file`), NDJSON's first batch (`batchRows` lines). */
  typesFrom?: { file: string; rows: number; firstLine: number; by: 'source.inferRows' | 'source.batchRows' };
  preview: PreviewRows;
  /** Things a user might not expect (CSV ignores `key=value` directories, …). */
  notes: string[];
}

export async function inspectSource(cfg: SourceOptions, previewRows: number): Promise<Inspection> {
  const files = resolveInputs(cfg.path, cfg.baseDir);
  const rows = new Map<string, number>(files.map((f) => [f, 0]));
  const readsAll = cfg.format === 'arrow' || cfg.format === 'ndjson';
  let inference: CsvInference | undefined;
  const source = await openSource(cfg, { onCsvInference: (i) => (inference = i) });
  let schema: Schema | undefined;
  let preview: PreviewRows | undefined;
  try {
    for await (const owned of source.batches()) {
      // The batch's memory may be a recycled slab: its rows become text before it is released.
      const seen = await owned.consume(({ batch, sourceFile }) => {
        schema ??= batch.schema;
        const into = (preview ??= emptyPreview(batch.schema.fields.map((f) => f.name)));
        addPreviewRows(into, batch, previewRows - into.text.length);
        rows.set(sourceFile!, rows.get(sourceFile!)! + batch.numRows);
        return into.text.length;
      });
      if (!readsAll && seen >= previewRows) break;
    }
  } finally {
    await source.close();
  }
  if (!schema || !preview) throw new SourceError(`no columns to read: ${files.join(', ')}`);

  const layouts = new Map<string, ParquetLayout>();
  if (cfg.format === 'csv') await countCsvRows(cfg, rows);
  if (cfg.format === 'parquet') await readFooters(files, rows, layouts);

  const hiveKeys = cfg.format === 'csv' ? [] : hiveColumns(files[0]).map(([k]) => k);
  const parquet = cfg.format === 'parquet' ? await parquetColumns(files[0]) : undefined;
  const own = parquet?.names;
  const why = inference && Object.fromEntries(inference.columns.map((c) => [c.name, c]));
  const columns: InspectedColumn[] = schema.fields.map((f) => {
    const c = why?.[f.name];
    const fromPath = hiveKeys.includes(f.name) && !(own ?? []).includes(f.name);
    return {
      name: f.name,
      type: String(f.type),
      nullable: f.nullable,
      origin: fromPath ? 'path' : parquet?.uuids.includes(f.name) ? 'uuid' : 'file',
      ...(c && { csv: { type: c.type, reason: csvReason(c, inference!.rows), ...(c.line !== undefined && { line: c.line }) } }),
      ...(!c && cfg.format === 'csv' && { csv: headerOnlyType(f.name, cfg) }),
    };
  });
  const inspected: InspectedFile[] = files.map((file) => ({
    file,
    bytes: statSync(file).size,
    rows: rows.get(file)!,
    hive: Object.fromEntries(hiveColumns(file)),
    ...(layouts.has(file) && { parquet: layouts.get(file) }),
  }));
  return {
    format: cfg.format,
    files: inspected,
    rows: inspected.reduce((n, f) => n + f.rows, 0),
    schema: columns,
    ...typesFrom(cfg, inference, inspected),
    preview,
    notes: notes(cfg, files),
  };
}

/** A CSV with a header and no rows: nothing to infer from. */
function headerOnlyType(name: string, cfg: SourceOptions): { type: CsvType; reason: string } {
  const declared = cfg.schema?.[name];
  return declared ? { type: declared, reason: 'set by source.schema' } : { type: 'utf8', reason: 'no rows to infer from: read as text' };
}

function typesFrom(cfg: SourceOptions, inference: CsvInference | undefined, files: InspectedFile[]): Pick<Inspection, 'typesFrom'> {
  if (inference) return { typesFrom: { file: inference.file, rows: inference.rows, firstLine: inference.firstLine, by: 'source.inferRows' } };
  // NDJSON: every line of the first batch (polars infers from all the lines it parses at once).
  if (cfg.format === 'ndjson') return { typesFrom: { file: files[0].file, rows: Math.min(cfg.batchRows, files[0].rows), firstLine: 1, by: 'source.batchRows' } };
  return {};
}

function notes(cfg: SourceOptions, files: string[]): string[] {
  const out: string[] = [];
  const dirs = [...new Set(files.flatMap((f) => hiveColumns(f).map(([k]) => k)))];
  if (cfg.format === 'csv' && dirs.length) out.push(`CSV input does not add Hive columns: the directories' ${dirs.map((k) => `${k}=`).join(', ')} values are not read as columns`);
  return out;
}

/** Rows of every CSV file, by the reader's own row scanner (the schema of every file checked against the first). */
async function countCsvRows(cfg: SourceOptions, rows: Map<string, number>): Promise<void> {
  const chunks = openCsvChunks(cfg, cfg.batchRows);
  for (const f of rows.keys()) rows.set(f, 0);
  try {
    for await (const chunk of chunks.chunks()) rows.set(chunk.parse.file, rows.get(chunk.parse.file)! + chunk.rows);
  } finally {
    await chunks.close();
  }
}

/** Each footer's layout and rows; every file's schema must be the first's, as the run requires. */
async function readFooters(files: string[], rows: Map<string, number>, layouts: Map<string, ParquetLayout>): Promise<void> {
  let first: { file: string; schema: string } | undefined;
  for (const file of files) {
    const pinned = await openParquet(file, { rewrite: forPolars(file) });
    try {
      const layout = parquetLayout(pinned.meta);
      layouts.set(file, layout);
      rows.set(file, layout.rows);
      const hive = hiveColumns(file).map(([k]) => `${k}: hive`);
      // Not polars' .schema: a binary column would print a Rust panic and throw (batch/polars-types.ts).
      const schema = [...columnTypes(pl.readParquet(pinned.schemaFile())).map((c) => `${c.name}: ${c.type}`), ...hive].join(', ');
      if (!first) first = { file, schema };
      else if (schema !== first.schema) throw new SourceError(`schema differs from ${first.file}: (${schema}) vs (${first.schema})`, { file });
    } finally {
      await pinned.close();
    }
  }
}

async function parquetColumns(file: string): Promise<{ names: string[]; uuids: string[] }> {
  const pinned = await openParquet(file, { rewrite: forPolars(file) });
  try {
    return { names: pl.readParquet(pinned.schemaFile()).columns, uuids: uuidColumns(pinned.meta) };
  } finally {
    await pinned.close();
  }
}

