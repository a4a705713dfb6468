/**
 * `sluice inspect <file|glob…>`: what a source would read — schema (with why each CSV column
 * has its type), rows, Parquet row groups, Hive columns, the first rows — through the
 * source's own code (io/inspect/). Options are the source config's keys, checked by the
 * same schema, so a bad option reads like a bad config key.
 */
import path from 'node:path';
import { inapplicableKeys, loadWithOverrides, sourceIssues } from '../config';
import { BATCH_ROWS } from '../defaults';
import { SluiceError, type ConfigIssue } from '../errors';
import { inspectSource } from '../io/inspect';
import type { SourceOptions } from '../io/sources';
import type { InspectArgs } from './inspect-options';
import { renderInspection, inspectionJson } from './inspect-render';
import { safeBlock, safeJson } from './terminal-text';

const EXTENSIONS: Record<string, SourceOptions['format']> = {
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.arrow': 'arrow',
  '.arrows': 'arrow',
  '.ipc': 'arrow',
  '.feather': 'arrow',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
};

/** Flag names for source keys, so an issue names what the user typed. */
const FLAGS: Record<string, string> = {
  path: 'paths',
  batchRows: '--batch-rows',
  nullValues: '--null-values',
  inferRows: '--infer-rows',
  maxRowBytes: '--max-row-bytes',
};

export async function inspectCommand(args: InspectArgs): Promise<number> {
  try {
    if (!Number.isInteger(args.rows) || args.rows < 0) throw optionError([{ path: '--rows', message: `must be an integer >= 0, got ${String(args.rows)}` }]);
    const cfg = await sourceOf(args);
    const inspection = await inspectSource(cfg, args.rows);
    process.stdout.write(args.json ? safeJson(inspectionJson(inspection)) + '\n' : safeBlock(renderInspection(inspection, args.rows)) + '\n');
    return 0;
  } catch (err) {
    // Messages quote data (a column name, a value, a file name): shown terminal-safe.
    if (err instanceof SluiceError) process.stderr.write(`sluice: ${safeBlock(err.message)}\n`);
    else process.stderr.write(`sluice: ${safeBlock(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    return 1;
  }
}

/** The source to inspect: the config's (if any), then the flags, checked as a config's source is. */
async function sourceOf(args: InspectArgs): Promise<SourceOptions> {
  let base: Record<string, unknown> = {};
  let baseDir = process.cwd();
  if (args.config) {
    const loaded = await loadWithOverrides(args.config);
    const source = (loaded.raw as { source?: unknown } | null)?.source;
    if (!source || typeof source !== 'object') throw optionError([{ path: 'source', message: 'missing: the config has no source to inspect' }], loaded.file);
    base = { ...(source as Record<string, unknown>) };
    baseDir = loaded.baseDir;
    delete base.thread; // how a run schedules the read, not what it reads
  }
  // Paths as typed, relative to here (a config's own path is relative to the config's folder).
  const paths = args.paths?.length ? (args.config ? args.paths.map((p) => path.resolve(p)) : args.paths) : undefined;
  if (!paths && base.path === undefined) throw optionError([{ path: 'paths', message: 'name a file or glob to inspect (or --config <pipeline.config.ts>)' }]);
  const { given, issues: flagIssues } = flags(args);
  const raw: Record<string, unknown> = { ...base, ...given, ...(paths && { path: paths.length === 1 ? paths[0] : paths }) };
  raw.format ??= formatOf(paths ?? [base.path].flat().map(String));
  const { source, issues } = sourceIssues(raw);
  const all = [...flagIssues, ...issues, ...inapplicableKeys({ source: raw })];
  // A key the flags set is named as its flag; one from the config by its config path.
  if (!source || all.length) throw optionError(all.map((i) => asFlag(i, new Set([...Object.keys(given), ...(paths ? ['path'] : [])]))), args.config);
  return { ...source, batchRows: source.batchRows ?? BATCH_ROWS, baseDir };
}

function flags(args: InspectArgs): { given: Record<string, unknown>; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const out: Record<string, unknown> = {
    format: args.format,
    delimiter: args.delimiter,
    quote: args.quote,
    header: args.header,
    nullValues: args['null-values'],
    inferRows: args['infer-rows'],
    columns: args.columns,
    batchRows: args['batch-rows'],
    maxRowBytes: args['max-row-bytes'],
    schema: args.schema && Object.fromEntries(args.schema.flatMap((text) => typeOverride(text, issues))),
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return { given: out, issues };
}

function typeOverride(text: string, issues: ConfigIssue[]): [string, string][] {
  const eq = text.lastIndexOf('=');
  if (eq > 0) return [[text.slice(0, eq), text.slice(eq + 1)]];
  issues.push({ path: '--schema', message: `expected <column>=<type>, got "${text}"` });
  return [];
}

/** The format by extension (`.gz` looked through), when every path agrees. */
function formatOf(paths: string[]): SourceOptions['format'] | undefined {
  const formats = new Set(paths.map((p) => EXTENSIONS[path.extname(p.replace(/\.gz$/, '')).toLowerCase()]));
  const [only] = formats;
  if (formats.size === 1 && only) return only;
  throw optionError([{ path: '--format', message: `cannot tell the format from ${paths.map((p) => path.basename(p)).join(', ')}; pass --format csv|parquet|arrow|ndjson` }]);
}

/** `source.delimiter` → `--delimiter`, as the user wrote it. */
function asFlag(issue: ConfigIssue, fromFlags: Set<string>): ConfigIssue {
  const m = /^source\.([A-Za-z]+)(.*)$/.exec(issue.path);
  if (!m || !fromFlags.has(m[1])) return issue;
  // `source.schema.zip` → `--schema zip`
  return { ...issue, path: `${FLAGS[m[1]] ?? `--${m[1]}`}${m[2].replace(/^\.(.+)$/, ' $1')}` };
}

/** Every problem with the options at once, each named by its flag (or config path), like a config error. */
function optionError(issues: ConfigIssue[], config?: string): SluiceError {
  const lines = issues.map((i) => `  ✖ ${i.path}: ${i.message}`);
  return new SluiceError('SLUICE_CONFIG_INVALID', `invalid inspect options${config ? ` (with the source of ${path.resolve(config)})` : ''}:\n${lines.join('\n')}`);
}
