/**
 * `sluice inspect`'s arguments (cheap to load: `--help` must not pull in polars or arrow;
 * the command itself is in inspect.ts, imported when it runs). The inference options are
 * the source config's keys, spelled as flags.
 */
import type { Argv } from 'yargs';

export interface InspectArgs {
  paths?: string[];
  config?: string;
  format?: string;
  rows: number;
  json: boolean;
  delimiter?: string;
  quote?: string;
  header?: boolean;
  'null-values'?: string[];
  'infer-rows'?: number;
  schema?: string[];
  columns?: string[];
  'batch-rows'?: number;
  'max-row-bytes'?: number;
}

export function inspectOptions<T>(y: Argv<T>): Argv<T & InspectArgs> {
  return y
    .positional('paths', { type: 'string', array: true, describe: 'files or globs (quote a glob so the shell leaves it alone)' })
    .option('config', { type: 'string', describe: "take the source (path and options) from this pipeline config; flags given here override its keys" })
    .option('format', { type: 'string', choices: ['csv', 'parquet', 'arrow', 'ndjson'], describe: 'input format (default: from the file extension)' })
    .option('rows', { type: 'number', default: 10, describe: 'first rows shown' })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
    .option('delimiter', { type: 'string', describe: 'CSV: field delimiter (source.delimiter)' })
    .option('quote', { type: 'string', describe: 'CSV: quote character (source.quote)' })
    .option('header', { type: 'boolean', describe: 'CSV: the first row holds names (source.header; --no-header: it does not)' })
    .option('null-values', { type: 'string', array: true, describe: 'CSV: strings read as null (source.nullValues)' })
    .option('infer-rows', { type: 'number', describe: 'CSV: rows sampled to infer types (source.inferRows)' })
    .option('schema', { type: 'string', array: true, describe: 'CSV: a column type override <column>=<type> (source.schema; repeatable)' })
    .option('columns', { type: 'string', array: true, describe: 'read only these columns, in this order (source.columns)' })
    .option('batch-rows', { type: 'number', describe: 'rows per batch (source.batchRows; NDJSON infers types from the first batch)' })
    .option('max-row-bytes', { type: 'number', describe: 'CSV and NDJSON: the longest row read (source.maxRowBytes)' }) as unknown as Argv<T & InspectArgs>;
}
