/**
 * Everything that can be known before a run starts, in one pass: the params (`--set` and
 * the config's defaults, then the paths computed from them), the config's shape and
 * values, duplicate names, missing files, stage modules that do not load or are not stages,
 * stateful stages with several copies, and column names the source does not have. `validate`,
 * `explain` and `run` all go through here, so they report the same problems the same way.
 */
import { statSync } from 'node:fs';
import { configIssues, loadWithOverrides, type Overrides, type ResolvedConfig } from '../config';
import { expandInputs } from '../inputs';
import type { PipelineConfig } from '../config/types';
import { aboutUnresolved, computeFromParams } from '../config/from-params';
import { resolveParams, type ResolvedParams } from '../config/params';
import { ConfigError, type ConfigIssue } from '../errors';
import type { SourceColumns } from '../io/sources/probe';
import { columnIssues } from './columns';
import { downstreamColumnIssues } from './columns-downstream';
import { pushDownColumns, type Projection } from './projection';
import { stageIssues } from './stages';

export interface CheckOptions {
  /**
   * Report a first source file that cannot be read (default true). `run` passes false: the
   * run fails on the same read with the source's own error and a run report.
   */
  readErrors?: boolean;
  /**
   * Called once the config is valid by its schema and its params resolve, before the slower
   * checks (stage modules, the source's columns): `run` starts the stage copies there. The
   * checks wait for what it returns (the copies' launch, which needs the event loop).
   */
  onConfig?: (valid: { config: PipelineConfig; file: string; baseDir: string; params: ResolvedParams; inputBytes?: number }) => void | Promise<void>;
}

/** A config that passed every check, and what the checks learnt on the way. */
export interface CheckedConfig extends ResolvedConfig {
  /** The source's columns (its first file), when they could be read. */
  sourceColumns?: SourceColumns;
  /** The params the run uses (`ctx.params`), with their types and where each came from. */
  params: ResolvedParams;
  /** Column names that could not be checked before the run, and why (`validate` prints them). */
  notes: ConfigIssue[];
  /** The source files' total size in bytes, when they could be listed (the plan decides the source thread by it). */
  inputBytes?: number;
  /** The source columns the run needs, when the stages' `reads` leave some out (projection.ts). */
  projection?: Projection;
  /** Names of the stages whose definition says `vectorised: true` (plan/chain-batch.ts sizes the source's batches by them). */
  vectorised?: string[];
}

/** Load a config file, apply the CLI overrides and check it all; throws one ConfigError listing every issue. */
export async function resolveChecked(file: string, overrides: Overrides = {}, opts: CheckOptions & { cwd?: string } = {}): Promise<CheckedConfig> {
  const loaded = await loadWithOverrides(file, overrides, opts.cwd);
  const where = { file: loaded.file, baseDir: loaded.baseDir, original: loaded.original, overrideIssues: loaded.overrideIssues, set: overrides.set, sourcePathFromCli: Boolean(overrides.sourcePath?.length) };
  return checkPipeline(loaded.raw, where, opts);
}

/**
 * Check a config object (`original`: before overrides, to say when an override caused an
 * issue; `set`: the `--set` values). Its params are resolved first and its function paths
 * called with them, so every later check sees the values of this run.
 */
export async function checkPipeline(
  written: unknown,
  where: { file: string; baseDir: string; original?: unknown; overrideIssues?: ConfigIssue[]; set?: readonly string[]; sourcePathFromCli?: boolean },
  opts: CheckOptions = {},
): Promise<CheckedConfig> {
  const resolved = resolveParams((written as { params?: unknown } | null)?.params, where.set);
  const computed = await computeFromParams(written, resolved.params);
  const raw = computed.config;
  const { config, issues } = configIssues(raw, where.baseDir);
  const schemaClean = !where.overrideIssues?.length && !resolved.issues.length && !computed.issues.length && !issues.length;
  const inputBytes = config && schemaClean ? sizeOfInputs(config.source.path, where.baseDir) : undefined;
  if (opts.onConfig && config && resolved.params && schemaClean) await opts.onConfig({ config, file: where.file, baseDir: where.baseDir, params: resolved.params, inputBytes });
  const [stages, columns] = await Promise.all([stageIssues(raw, where.original ?? raw, where.baseDir), columnIssues(raw, where.baseDir, opts.readErrors ?? true)]);
  const downstream = columns.columns ? downstreamColumnIssues(raw, columns.columns, stages.definitions) : undefined;
  const found = [
    ...(where.overrideIssues ?? []),
    ...resolved.issues,
    ...computed.issues,
    // A path left unresolved is not there: its cause is reported, not that it is missing.
    ...issues.filter((i) => !aboutUnresolved(i, computed.unresolved)),
    ...stages.issues,
    ...columns.issues,
    ...(downstream?.issues ?? []),
  ];
  const all = inConfigOrder(where.sourcePathFromCli ? found.map(blameSourcePathFlag) : found);
  if (!config || !resolved.params || all.length) throw new ConfigError(all, where.file || undefined);
  const projection = downstream && pushDownColumns(config.stages, stages.definitions, downstream.flow);
  return {
    config,
    file: where.file,
    baseDir: where.baseDir,
    params: resolved.params,
    notes: downstream?.notes ?? [],
    inputBytes,
    ...(columns.columns && { sourceColumns: columns.columns }),
    ...(projection && { projection }),
    vectorised: [...stages.definitions].filter(([, d]) => d.vectorised === true).map(([i]) => config.stages[i].name),
  };
}

/** The source files' total size; undefined when they cannot be listed (the checks report why). */
function sizeOfInputs(patterns: string | string[], baseDir: string): number | undefined {
  try {
    return expandInputs(patterns, baseDir).reduce((n, f) => n + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
  } catch {
    return undefined;
  }
}

/** An issue about `source.path` set by `--source-path` names the flag the user typed. */
function blameSourcePathFlag(issue: ConfigIssue): ConfigIssue {
  const { path } = issue;
  return path === 'source.path' || path.startsWith('source.path[') ? { ...issue, path: `--source-path${path.slice('source.path'.length)}` } : issue;
}

const SECTIONS = ['name', 'params', 'source', 'stages', 'sink', 'channel', 'ordered'];

/** Issues in the order a config is read (source, then each stage, then sink); stable within a place. */
function inConfigOrder(issues: ConfigIssue[]): ConfigIssue[] {
  const rank = (p: string) => {
    const flag = p.startsWith('--set') ? 'params' : p.startsWith('--source-path') ? 'source' : undefined;
    const section = SECTIONS.indexOf(flag ?? /^[^.[]*/.exec(p)![0]);
    const stage = /^stages\[(\d+)\]/.exec(p);
    return [section < 0 ? SECTIONS.length : section, stage ? Number(stage[1]) : -1];
  };
  return issues
    .map((issue, i) => ({ issue, i, r: rank(issue.path) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i)
    .map((x) => x.issue);
}
