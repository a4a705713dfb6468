/** Checks that what the config points at exists: source files (globs) and stage modules. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import type { ConfigIssue } from '../errors';
import type { PipelineConfig } from './types';

/** Absolute inputs a source `path` names, sorted, de-duplicated; globs expanded. */
export function expandInputs(patterns: string | string[], baseDir: string): string[] {
  const out = new Set<string>();
  for (const p of Array.isArray(patterns) ? patterns : [patterns]) {
    const abs = path.resolve(baseDir, p);
    if (isDynamicPattern(p)) for (const f of globSync(abs.split(path.sep).join('/'), { absolute: true, onlyFiles: true })) out.add(path.resolve(f));
    else if (existsSync(abs)) out.add(abs);
  }
  return [...out].sort();
}

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
