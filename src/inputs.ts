/**
 * The files a source `path` names: one place for config checks, `explain` and the source
 * itself, so they can never disagree about what a pattern matches. Imports nothing of ours.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';

/** Absolute files one pattern names (a glob expanded, or a plain path if it exists), sorted. */
export function matchInputs(pattern: string, baseDir = process.cwd()): string[] {
  const abs = path.resolve(baseDir, pattern);
  if (!isDynamicPattern(pattern)) return existsSync(abs) ? [abs] : [];
  return globSync(abs.split(path.sep).join('/'), { absolute: true, onlyFiles: true })
    .map((f) => path.resolve(f))
    .sort();
}

/** Absolute inputs of one or more patterns, de-duplicated, in sorted (read) order. */
export function expandInputs(patterns: string | string[], baseDir = process.cwd()): string[] {
  const out = new Set<string>();
  for (const p of Array.isArray(patterns) ? patterns : [patterns]) for (const f of matchInputs(p, baseDir)) out.add(f);
  return [...out].sort();
}
