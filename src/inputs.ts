/**
 * The files a source `path` names: one place for config checks, `explain` and the source
 * itself, so they can never disagree about what a pattern matches. Imports nothing of ours.
 *
 * Rules: the config's directory (`baseDir`) is never a glob, only the part the user wrote
 * is; a path that exists as a file is that file, whatever characters it holds; glob
 * characters can be escaped with a backslash (`in\[1\].csv`). sluice's own hidden
 * siblings (temporaries, moved-aside outputs, locks) are never inputs.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { convertPathToPattern, globSync, isDynamicPattern } from 'tinyglobby';

/** `.<name>.sluice-tmp-…`, `.<name>.sluice-old-…`, `.<name>.sluice-lock`: sluice's own, never data. */
const SLUICE_SIBLING = /^\..+\.sluice-(tmp|old|lock)(-|$)/;

/** stat, or undefined where nothing can be: missing, under a file, or a name too long. */
export function statIfAny(p: string): ReturnType<typeof statSync> {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch (err) {
    if (['ENOTDIR', 'ENAMETOOLONG', 'ENOENT'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}

export function isSluiceSibling(file: string): boolean {
  return file.split(/[\\/]/).some((segment) => SLUICE_SIBLING.test(segment));
}

/** Absolute files one pattern names (a glob expanded, or a plain path if it exists and is not a directory), sorted. */
export function matchInputs(pattern: string, baseDir = process.cwd()): string[] {
  const abs = path.resolve(baseDir, pattern);
  const literal = statIfAny(abs);
  // A path that exists is that path, even when it holds [ ] * ? { } ( ) !; a directory holds no input by itself.
  if (literal) return literal.isDirectory() ? [] : [abs];
  if (!isDynamicPattern(pattern)) return [];
  // `cwd` is taken literally (tinyglobby escapes it); only `pattern` is a glob.
  const found = path.isAbsolute(pattern)
    ? globSync(pattern.split(path.sep).join('/'), { absolute: true, onlyFiles: true })
    : globSync(pattern.split(path.sep).join('/'), { cwd: baseDir, absolute: true, onlyFiles: true });
  return found
    .map((f) => path.resolve(f))
    .filter((f) => !isSluiceSibling(f))
    .sort();
}

/**
 * A pattern given relative to `dir` (the working directory of `--source-path`) made absolute,
 * with the glob characters in `dir`'s own name escaped: only the part the user wrote is a glob.
 */
export function patternFrom(dir: string, pattern: string): string {
  return path.isAbsolute(pattern) ? pattern : `${convertPathToPattern(path.resolve(dir))}/${pattern}`;
}

/** Absolute inputs of one or more patterns, de-duplicated, in sorted (read) order. */
export function expandInputs(patterns: string | string[], baseDir = process.cwd()): string[] {
  const out = new Set<string>();
  for (const p of Array.isArray(patterns) ? patterns : [patterns]) for (const f of matchInputs(p, baseDir)) out.add(f);
  return [...out].sort();
}

/**
 * Characters sluice adds to a target's name for its hidden siblings
 * (`.<name>.sluice-lock-<pid>-<start>-<8 hex>`; a start of 12 digits is 30 years at 100 ticks/s).
 */
export const SIBLING_EXTRA = '..sluice-lock-4194304-999999999999-00000000'.length;
const NAME_MAX = 255;

/**
 * What makes an output path unusable before anything is written, or undefined: an ancestor
 * that is a file, or a name too long once sluice's hidden-sibling suffix is added.
 */
export function outputPathProblem(target: string): string | undefined {
  const name = path.basename(target);
  if (Buffer.byteLength(name) + SIBLING_EXTRA > NAME_MAX) {
    return `ENAMETOOLONG: the name "${name.slice(0, 24)}…" is ${Buffer.byteLength(name)} bytes; sluice writes beside it under a hidden name ${SIBLING_EXTRA} bytes longer, and a name may have ${NAME_MAX}: keep it to ${NAME_MAX - SIBLING_EXTRA} bytes`;
  }
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    const st = statIfAny(dir);
    if (st) return st.isDirectory() ? undefined : `ENOTDIR: ${dir} is a file, not a directory`;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Whether `pattern` (as a source path, relative to `baseDir`) would name `file`, which may not
 * exist yet: the output a sink is about to commit. Same literal and glob rules as matchInputs.
 */
export function patternNames(pattern: string, baseDir: string, file: string): boolean {
  const abs = path.resolve(baseDir, pattern);
  if (abs === file) return true;
  if (!isDynamicPattern(pattern) || isSluiceSibling(file)) return false;
  const posix = (p: string) => p.split(path.sep).join('/');
  const candidate = path.isAbsolute(pattern) ? posix(file) : posix(path.relative(baseDir, file));
  return picomatch(posix(path.posix.normalize(posix(pattern))))(candidate);
}
