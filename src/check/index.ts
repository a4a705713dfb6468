/**
 * Everything that can be known before a run starts, in one pass: the config's shape and
 * values, duplicate names, missing files, stage modules that do not load or are not stages,
 * stateful stages with several copies, and column names the source does not have. `validate`,
 * `explain` and `run` all go through here, so they report the same problems the same way.
 */
import { configIssues, loadWithOverrides, type Overrides, type ResolvedConfig } from '../config';
import { ConfigError, type ConfigIssue } from '../errors';
import type { SourceColumns } from '../io/sources/probe';
import { columnIssues } from './columns';
import { downstreamColumnIssues } from './columns-downstream';
import { stageIssues } from './stages';

export interface CheckOptions {
  /**
   * Report a first source file that cannot be read (default true). `run` passes false: the
   * run fails on the same read with the source's own error and a run report.
   */
  readErrors?: boolean;
}

/** A config that passed every check, and what the checks learnt on the way. */
export interface CheckedConfig extends ResolvedConfig {
  /** The source's columns (its first file), when they could be read. */
  sourceColumns?: SourceColumns;
  /** Column names that could not be checked before the run, and why (`validate` prints them). */
  notes: ConfigIssue[];
}

/** Load a config file, apply the CLI overrides and check it all; throws one ConfigError listing every issue. */
export async function resolveChecked(file: string, overrides: Overrides = {}, opts: CheckOptions & { cwd?: string } = {}): Promise<CheckedConfig> {
  const loaded = await loadWithOverrides(file, overrides, opts.cwd);
  return checkPipeline(loaded.raw, { file: loaded.file, baseDir: loaded.baseDir, original: loaded.original, overrideIssues: loaded.overrideIssues }, opts);
}

/** Check a config object (`original`: before overrides, to say when an override caused an issue). */
export async function checkPipeline(
  raw: unknown,
  where: { file: string; baseDir: string; original?: unknown; overrideIssues?: ConfigIssue[] },
  opts: CheckOptions = {},
): Promise<CheckedConfig> {
  const { config, issues } = configIssues(raw, where.baseDir);
  const [stages, columns] = await Promise.all([stageIssues(raw, where.original ?? raw, where.baseDir), columnIssues(raw, where.baseDir, opts.readErrors ?? true)]);
  const downstream = columns.columns ? downstreamColumnIssues(raw, columns.columns, stages.definitions) : { issues: [], notes: [] };
  const all = inConfigOrder([...(where.overrideIssues ?? []), ...issues, ...stages.issues, ...columns.issues, ...downstream.issues]);
  if (!config || all.length) throw new ConfigError(all, where.file || undefined);
  return { config, file: where.file, baseDir: where.baseDir, notes: downstream.notes, ...(columns.columns && { sourceColumns: columns.columns }) };
}

const SECTIONS = ['name', 'source', 'stages', 'sink', 'channel', 'ordered'];

/** Issues in the order a config is read (source, then each stage, then sink); stable within a place. */
function inConfigOrder(issues: ConfigIssue[]): ConfigIssue[] {
  const rank = (p: string) => {
    const section = SECTIONS.indexOf(/^[^.[]*/.exec(p)![0]);
    const stage = /^stages\[(\d+)\]/.exec(p);
    return [section < 0 ? SECTIONS.length : section, stage ? Number(stage[1]) : -1];
  };
  return issues
    .map((issue, i) => ({ issue, i, r: rank(issue.path) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i)
    .map((x) => x.issue);
}
