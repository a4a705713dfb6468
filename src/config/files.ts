/** Checks that what the config points at exists: source files (globs) and stage modules. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from '../errors';
import { expandInputs } from '../inputs';
import type { PipelineConfig } from './types';

export { expandInputs };

export function checkFiles(config: PipelineConfig, baseDir: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const patterns = Array.isArray(config.source.path) ? config.source.path : [config.source.path];
  patterns.forEach((p, i) => {
    if (expandInputs(p, baseDir).length === 0) {
      const where = Array.isArray(config.source.path) ? `source.path[${i}]` : 'source.path';
      issues.push({ path: where, message: `no file matches "${p}" (resolved to ${path.resolve(baseDir, p)})` });
    }
  });
  config.stages.forEach((s, i) => {
    const abs = path.resolve(baseDir, s.module);
    if (!existsSync(abs)) issues.push({ path: `stages[${i}].module`, message: `file not found: ${abs}` });
  });
  return issues;
}
