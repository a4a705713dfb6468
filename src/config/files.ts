/**
 * Checks that what the config points at exists: source files (globs) and stage modules.
 * Works on the config as written, valid or not, so a wrong value elsewhere never hides a
 * missing file: every entry that is a usable path is checked.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from '../errors';
import { expandInputs } from '../inputs';

export { expandInputs };

const isPath = (v: unknown): v is string => typeof v === 'string' && v !== '';

export function checkFiles(raw: unknown, baseDir: string): ConfigIssue[] {
  const config = (raw ?? {}) as { source?: { path?: unknown }; stages?: unknown };
  const issues: ConfigIssue[] = [];
  const sourcePath = config.source?.path;
  const patterns = Array.isArray(sourcePath) ? sourcePath : [sourcePath];
  patterns.forEach((p, i) => {
    if (!isPath(p) || expandInputs(p, baseDir).length > 0) return;
    const where = Array.isArray(sourcePath) ? `source.path[${i}]` : 'source.path';
    issues.push({ path: where, message: `no file matches "${p}" (resolved to ${path.resolve(baseDir, p)})` });
  });
  stageModules(raw, baseDir).forEach(({ index, file }) => {
    if (!existsSync(file)) issues.push({ path: `stages[${index}].module`, message: `file not found: ${file}` });
  });
  return issues;
}

/** Absolute module path of every stage entry that names one, with its index. */
export function stageModules(raw: unknown, baseDir: string): { index: number; file: string }[] {
  const stages = (raw as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return [];
  return stages.flatMap((s: unknown, index) => {
    const module = (s as { module?: unknown } | null)?.module;
    return isPath(module) ? [{ index, file: path.resolve(baseDir, module) }] : [];
  });
}
