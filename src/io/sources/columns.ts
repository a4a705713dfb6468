/**
 * What every source checks against a file's own columns, so that a typo in the config is
 * an error in every format alike: `source.columns` and `source.schema` keys must name
 * columns the file has (Hive partition columns of its path included). `source.schema`
 * types are applied by the CSV reader only; the other formats refuse it rather than
 * ignore it (`typed`).
 */
import { SourceError } from '../../errors';

export function assertColumnsExist(file: string, available: readonly string[], cfg: { columns?: readonly string[]; schema?: Record<string, unknown> }, typed?: 'Parquet' | 'Arrow IPC' | 'NDJSON'): void {
  for (const [key, names] of [['source.columns', cfg.columns ?? []], ['source.schema', Object.keys(cfg.schema ?? {})]] as const) {
    const have = new Set(available);
    const missing = names.filter((n) => !have.has(n));
    if (missing.length) {
      throw new SourceError(`${key} names ${missing.map((m) => `"${m}"`).join(', ')}, not a column of this file (columns: ${available.join(', ')})`, { file });
    }
  }
  if (typed && Object.keys(cfg.schema ?? {}).length) {
    throw new SourceError(`source.schema sets column types for CSV input only; ${typed} input keeps the types it is read with: remove it and cast in a stage`, { file });
  }
}
