/**
 * Keys that are valid on their own but do nothing where they stand (`delimiter` on a Parquet
 * source, `compression` on a CSV sink, `maxOpenFiles` without `partitionBy`). They would be
 * ignored without a word, so the user believes a setting took effect; say so instead.
 */
import type { ConfigIssue } from '../errors';
import { sinkSections } from './graph';

const CSV_SOURCE_ONLY = ['delimiter', 'quote', 'header', 'nullValues', 'encoding', 'inferRows', 'schema'] as const;
const PARQUET_SINK_ONLY = ['compression', 'rowGroupSize'] as const;
const FORMATS = ['csv', 'parquet', 'arrow', 'ndjson'];

type Section = Record<string, unknown> | undefined;

export function inapplicableKeys(raw: unknown): ConfigIssue[] {
  const source = (raw as { source?: Section } | null)?.source;
  const issues: ConfigIssue[] = [];
  const format = (s: Section) => (typeof s?.format === 'string' && FORMATS.includes(s.format) ? s.format : undefined);
  const sourceFormat = format(source);
  if (sourceFormat && sourceFormat !== 'csv') {
    for (const key of CSV_SOURCE_ONLY) {
      if (source?.[key] === undefined) continue;
      const carries = key === 'schema' ? 'their own types' : 'their own layout';
      issues.push({ path: `source.${key}`, message: `applies to CSV sources only; a ${sourceFormat} source would ignore it (its files carry ${carries}); remove it` });
    }
  }
  for (const { where, sink } of sinkSections(raw)) {
    const sinkFormat = format(sink);
    if (sinkFormat && sinkFormat !== 'parquet') {
      for (const key of PARQUET_SINK_ONLY) {
        if (sink?.[key] !== undefined) issues.push({ path: `${where}.${key}`, message: `applies to Parquet sinks only; a ${sinkFormat} sink would ignore it; remove it` });
      }
    }
    if (sink && sink.maxOpenFiles !== undefined && sink.partitionBy === undefined) {
      issues.push({ path: `${where}.maxOpenFiles`, message: `applies to partitioned output only (with ${where}.partitionBy); remove it` });
    }
  }
  return issues;
}
