/**
 * A config checked against its schema (config/schema.ts): every shape and value problem, with
 * its path, what was found and, for an unknown key, the nearest allowed one.
 */
import type { z as Z } from 'zod';
import { z } from './zod';
import { ConfigError, type ConfigIssue } from '../errors';
import { PARQUET_ENCODE_STAGE, PARTITION_STAGE } from '../defaults';
import { closest } from './closest';
import { graphIssues } from './graph';
import { incrementalIssues } from './incremental';
import { channelSchema as channel, deadLetterSchema as deadLetter, pipelineSchema as pipeline, sinkSchema as sink, sourceSchema as source, stageSchema as stage } from './schema';
import type { PipelineConfig, SourceConfig } from './types';

/** Validate shape and values; throws ConfigError listing every issue. */
export function validateConfig(input: unknown, file?: string): PipelineConfig {
  const { config, issues } = schemaIssues(input);
  if (!config || issues.length) throw new ConfigError(issues, file);
  return config;
}

/**
 * Every shape and value problem, and duplicate stage names among the entries that have a
 * name, in one pass (a wrong value elsewhere does not hide a duplicate). `config` is set
 * only when the shape is valid.
 */
export function schemaIssues(input: unknown): { config?: PipelineConfig; issues: ConfigIssue[] } {
  const result = pipeline.safeParse(input);
  const issues: ConfigIssue[] = result.success ? [] : result.error.issues.flatMap((i) => describeIssue(i, input));
  issues.push(...duplicateNames(input), ...duplicateKeys(input), ...graphIssues(input), ...deadLetterIssues(input), ...incrementalIssues(input));
  return { config: result.success ? result.data : undefined, issues };
}

function duplicateNames(input: unknown): ConfigIssue[] {
  const stages = (input as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return [];
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  stages.forEach((s: unknown, i) => {
    const name = (s as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '') return;
    if (name === PARQUET_ENCODE_STAGE || name === PARTITION_STAGE) {
      const what = name === PARTITION_STAGE ? 'a partitioned sink (its routing)' : 'a Parquet sink (its encoding)';
      issues.push({ path: `stages[${i}].name`, message: `"${name}" is the name of the stage sluice adds before ${what}; choose another name` });
      return;
    }
    const first = seen.get(name);
    if (first !== undefined) issues.push({ path: `stages[${i}].name`, message: `duplicate stage name "${name}" (also stages[${first}]); names must be unique` });
    else seen.set(name, i);
  });
  return issues;
}

/** A column named twice in a stage's `key` (a mistake: the key is the same without it). */
function duplicateKeys(input: unknown): ConfigIssue[] {
  const stages = (input as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return [];
  return stages.flatMap((s: unknown, i) => {
    const key = (s as { key?: unknown } | null)?.key;
    if (!Array.isArray(key)) return [];
    const twice = [...new Set(key.filter((c, at) => typeof c === 'string' && key.indexOf(c) !== at))];
    return twice.map((c) => ({ path: `stages[${i}].key`, message: `column "${String(c)}" is named twice; name each key column once` }));
  });
}

/**
 * `onError: 'dead-letter'` somewhere needs a `deadLetter` output to send the rows to: refused,
 * at the first such place, before anything runs (the reverse, an output nothing sends to, is
 * only a warning: plan/warnings.ts).
 */
function deadLetterIssues(input: unknown): ConfigIssue[] {
  const r = (input ?? {}) as { source?: { onError?: unknown }; stages?: unknown; deadLetter?: unknown };
  if (r.deadLetter !== undefined) return [];
  const places = [
    ...(r.source?.onError === 'dead-letter' ? ['source.onError'] : []),
    ...(Array.isArray(r.stages) ? r.stages.flatMap((s: unknown, i) => ((s as { onError?: unknown } | null)?.onError === 'dead-letter' ? [`stages[${i}].onError`] : [])) : []),
  ];
  return places.map((path) => ({ path, message: "is \"dead-letter\" but the pipeline has no `deadLetter` output: add `deadLetter: { format: 'ndjson', path: 'out/rejects.ndjson' }` (any sink format), or use \"skip\" to drop the rows" }));
}

/** The source part alone: column checks need a usable source even when the rest is wrong. */
export function parseSource(input: unknown): SourceConfig | undefined {
  const r = source.safeParse((input as { source?: unknown } | null)?.source);
  return r.success ? r.data : undefined;
}

/**
 * A source section on its own (`sluice inspect` builds one from its options), checked as a
 * config's `source` is: the same rules and messages, paths `source.<key>`.
 */
export function sourceIssues(input: unknown): { source?: SourceConfig; issues: ConfigIssue[] } {
  const wrapped = { source: input };
  const r = z.strictObject({ source }).safeParse(wrapped);
  return r.success ? { source: r.data.source as SourceConfig, issues: [] } : { issues: r.error.issues.flatMap((i) => describeIssue(i, wrapped)) };
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function describeIssue(issue: Z.core.$ZodIssue, input: unknown): ConfigIssue[] {
  const path = issue.path as PropertyKey[];
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(path);
    return issue.keys.map((key) => {
      const hint = closest(key, known);
      return { path: formatPath([...path, key]), message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; allowed: ${known.join(', ')}` };
    });
  }
  const value = valueAt(input, path);
  const got = value === undefined ? 'missing' : `got ${JSON.stringify(value) ?? String(value)}`;
  return [{ path: formatPath(path), message: `${issue.message}, ${got}` }];
}

/** Keys allowed at a path (objects only), for unknown-key hints. */
function knownKeys(path: readonly PropertyKey[]): string[] {
  const shapes: Record<string, Z.ZodObject> = { '': pipeline, source, sink, stage, channel, deadLetter };
  const last = [...path].reverse().find((k) => typeof k === 'string') as string | undefined;
  const shape = path.length === 0 ? shapes[''] : last === 'stages' ? stage : last === 'sinks' ? sink : shapes[last ?? ''];
  return shape ? Object.keys(shape.shape) : [];
}

