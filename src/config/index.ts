/** Load → override → validate → check files: a config the plan can trust. */
import path from 'node:path';
import { ConfigError, type ConfigIssue } from '../errors';
import { inapplicableKeys } from './applicable';
import { checkFiles } from './files';
import { uncloneableOptions } from './options';
import { loadConfigFile } from './load';
import { overridden, type Overrides } from './overrides';
import { patternFrom, remotePathProblem } from '../inputs';
import { schemaIssues } from './validate';
import type { PipelineConfig } from './types';

export { expandInputs } from './files';
export { validateConfig, sourceIssues } from './validate';
export { inapplicableKeys } from './applicable';
export type { Overrides } from './overrides';

export interface ResolvedConfig {
  config: PipelineConfig;
  file: string;
  baseDir: string;
}

/** A config file loaded, with the CLI overrides applied, not yet checked. */
export interface LoadedRaw {
  raw: unknown;
  /** Overrides that could not be applied (`--mode nosuch=thread`), reported with the rest. */
  overrideIssues: ConfigIssue[];
  /** The default export before overrides (to tell what an override changed). */
  original: unknown;
  file: string;
  baseDir: string;
}

export async function loadWithOverrides(file: string, overrides: Overrides = {}, cwd = process.cwd()): Promise<LoadedRaw> {
  const loaded = await loadConfigFile(file, cwd);
  // Paths on the command line are the user's, relative to where they stand.
  // A URL stays as written, so the checks name it as remote rather than as a missing local file.
  const local = (p: string, resolve: (p: string) => string) => (remotePathProblem(p) ? p : resolve(p));
  const sourcePath = overrides.sourcePath?.map((p) => local(p, (q) => patternFrom(cwd, q)));
  const { config, issues } = overridden(loaded.raw, { ...overrides, sourcePath }, (p) => local(p, (q) => path.resolve(cwd, q) + (/[\\/]$/.test(q) ? path.sep : '')));
  return { raw: config, overrideIssues: issues, original: loaded.raw, file: loaded.file, baseDir: loaded.baseDir };
}

/**
 * What can be known from the config and the file system alone, in one pass: shape and
 * values, duplicate names, keys that would be ignored where they stand, stage options a
 * worker cannot receive, missing files. `config` is set only when the shape is valid.
 */
export function configIssues(raw: unknown, baseDir: string): { config?: PipelineConfig; issues: ConfigIssue[] } {
  const { config, issues } = schemaIssues(raw);
  return { config, issues: [...issues, ...inapplicableKeys(raw), ...uncloneableOptions(raw), ...checkFiles(raw, baseDir)] };
}

/** Validate a config object (from a file or built in code) and check the files it names. */
export function checkConfig(raw: unknown, file: string, baseDir: string): ResolvedConfig {
  const { config, issues } = configIssues(raw, baseDir);
  if (!config || issues.length) throw new ConfigError(issues, file || undefined);
  return { config, file, baseDir };
}
