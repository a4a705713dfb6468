/**
 * What `source.incremental` asks of the outputs, checked with the config's shape: each run
 * adds its output as a new part file, so every sink (and the dead-letter output) must be a
 * directory, and its `mode` is the run's to choose (append a part; `--full` replaces).
 */
import type { ConfigIssue } from '../errors';

interface SinkLike {
  path?: unknown;
  partitionBy?: unknown;
  mode?: unknown;
}

/** A path that names a directory as written: it ends in a separator. */
export function namesDirectory(p: string): boolean {
  return p.endsWith('/') || p.endsWith('\\');
}

export function incrementalIssues(input: unknown): ConfigIssue[] {
  const r = (input ?? {}) as { source?: { incremental?: unknown }; sink?: unknown; sinks?: unknown; deadLetter?: unknown };
  const incremental = r.source?.incremental;
  if (incremental !== true && incremental !== 'per-run') return [];
  const places: [string, SinkLike][] = [
    ...(r.sink && typeof r.sink === 'object' ? [['sink', r.sink as SinkLike] as [string, SinkLike]] : []),
    ...(Array.isArray(r.sinks) ? r.sinks.map((s, i) => [`sinks[${i}]`, (s ?? {}) as SinkLike] as [string, SinkLike]) : []),
    ...(r.deadLetter && typeof r.deadLetter === 'object' ? [['deadLetter', r.deadLetter as SinkLike] as [string, SinkLike]] : []),
  ];
  const issues: ConfigIssue[] = [];
  for (const [at, s] of places) {
    if (typeof s.path === 'string' && s.partitionBy === undefined && !namesDirectory(s.path)) {
      issues.push({
        path: `${at}.path`,
        message: `is "${s.path}", one file, but with source.incremental each run adds its output as a new part file (part-<run>.<ext>) to a directory: give a directory path ending in "/" (e.g. "out/events/")${at === 'deadLetter' ? '' : ', or partitionBy'}`,
      });
    }
    if (s.mode !== undefined && s.mode !== 'append') {
      issues.push({ path: `${at}.mode`, message: `is "${String(s.mode)}", but with source.incremental each run appends a part and \`sluice run --full\` replaces the output: leave mode out (or "append")` });
    }
  }
  return issues;
}
