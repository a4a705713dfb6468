/** Load → override → validate → check files: a config the plan can trust. */
import path from 'node:path';
import { ConfigError } from '../errors';
import { checkFiles } from './files';
import { loadConfigFile } from './load';
import { applyOverrides, type Overrides } from './overrides';
import { validateConfig } from './schema';
import type { PipelineConfig } from './types';

export { expandInputs } from './files';
export { validateConfig } from './schema';
export type { Overrides } from './overrides';

export interface ResolvedConfig {
  config: PipelineConfig;
  file: string;
  baseDir: string;
}

export async function resolveConfig(file: string, overrides: Overrides = {}, cwd = process.cwd()): Promise<ResolvedConfig> {
  const loaded = await loadConfigFile(file, cwd);
  const sinkPath = overrides.sinkPath ? path.resolve(cwd, overrides.sinkPath) : undefined;
  const raw = applyOverrides(loaded.raw, { ...overrides, sinkPath });
  return checkConfig(raw, loaded.file, loaded.baseDir);
}

/** Validate a config object (from a file or built in code) and check the files it names. */
export function checkConfig(raw: unknown, file: string, baseDir: string): ResolvedConfig {
  const config = validateConfig(raw, file || undefined);
  const issues = checkFiles(config, baseDir);
  if (issues.length) throw new ConfigError(issues, file || undefined);
  return { config, file, baseDir };
}
