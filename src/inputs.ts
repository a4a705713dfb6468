/**
 * The files a source `path` names: one place for config checks, `explain` and the source
 * itself, so they can never disagree about what a pattern matches. Imports nothing of ours.
 *
 * Rules: the config's directory (`baseDir`) is never a glob, only the part the user wrote
 * is; a path that exists as a file is that file, whatever characters it holds; glob
 * characters can be escaped with a backslash (`in\[1\].csv`). sluice's own hidden
 * siblings (temporaries, moved-aside outputs, locks) are never inputs.
 *
 * Each input file is read once, identified by what it is (device and inode), not by the
 * name it was reached by: a `**` glob that goes through a symlink (`latest -> 2026-11-30`
 * beside the dated folders), a file linked under two names, or a glob and an explicit list
 * naming the same file yield it once, under its own name (the one without a symlink in it,
 * else the first in order). A symlink to one of its own ancestors (a loop) is refused by the
 * callers (matchInputsAndLoops): a glob would go round it.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { convertPathToPattern, globSync, isDynamicPattern } from 'tinyglobby';

/** `.<name>.sluice-tmp-…`, `.<name>.sluice-old-…`, `.<name>.sluice-lock`, `.<name>.sluice-staging` (a resumable run's units): sluice's own, never data. */
const SLUICE_SIBLING = /^\..+\.sluice-(tmp|old|lock|staging)(-|$)/;

/**
 * Why `p` cannot be a path here because it is a URL (`s3://bucket/x`, `https://…`, `gs://…`):
 * read as a local path it would be "no file matches s3:/bucket/x", and as an output a local
 * folder named `s3:`. Undefined for a local path (`file://` is not taken either: name the path).
 */
export function remotePathProblem(p: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(p)?.[1];
  if (scheme === undefined) return undefined;
  return `"${p}" is a remote path (${scheme.toLowerCase()}://): remote paths are not supported yet, sluice reads and writes local files only; copy the files to a local disk (or mount the bucket) and name the local path`;
}

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

/** Absolute files one pattern names (a glob expanded, or a plain path if it exists and is not a directory), each once, sorted. */
export function matchInputs(pattern: string, baseDir = process.cwd()): string[] {
  return readOnce(namesMatched(pattern, baseDir));
}

/** matchInputs, and the symlink loops its glob went round (see symlinkLoops): what a check refuses. */
export function matchInputsAndLoops(pattern: string, baseDir = process.cwd()): { files: string[]; loops: string[] } {
  const names = namesMatched(pattern, baseDir);
  return { files: readOnce(names), loops: symlinkLoops(names) };
}

/**
 * `text` with every character a glob reads specially escaped by a backslash, so that as part
 * of a pattern it matches only itself: `* ? [ ] { } ( ) ! + @ ,` (picomatch's extglobs, braces,
 * classes and negation) and the backslash itself.
 */
export function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]{}()!+@,]/g, '\\$&');
}

/**
 * Whether `pattern` holds a glob character that is not escaped. (tinyglobby's isDynamicPattern
 * alone says no to `in/h\\{i\\,j\\}/*.csv`: an escaped brace hides the star after it.)
 */
function isGlob(pattern: string): boolean {
  return isDynamicPattern(pattern.replace(/\\./g, ''));
}

/** Every name a pattern reaches, one file possibly under several. */
function namesMatched(pattern: string, baseDir: string): string[] {
  const abs = path.resolve(baseDir, pattern);
  const literal = statIfAny(abs);
  // A path that exists is that path, even when it holds [ ] * ? { } ( ) !; a directory holds no input by itself.
  if (literal) return literal.isDirectory() ? [] : [abs];
  if (!isGlob(pattern)) {
    // Escaped but no glob left (`in/acme\[1\].csv`, an escaped param in a plain path): the name it spells.
    const unescaped = pattern.replace(/\\(.)/g, '$1');
    const st = unescaped !== pattern ? statIfAny(path.resolve(baseDir, unescaped)) : undefined;
    return st && !st.isDirectory() ? [path.resolve(baseDir, unescaped)] : [];
  }
  // `cwd` is taken literally (tinyglobby escapes it); only `pattern` is a glob.
  const found = path.isAbsolute(pattern)
    ? globSync(pattern.split(path.sep).join('/'), { absolute: true, onlyFiles: true })
    : globSync(pattern.split(path.sep).join('/'), { cwd: baseDir, absolute: true, onlyFiles: true });
  return found.map((f) => path.resolve(f)).filter((f) => !isSluiceSibling(f));
}

/** One name per file (device and inode), sorted: the name with no symlink in it where there is one, else the first. */
function readOnce(files: Iterable<string>): string[] {
  const byIdentity = new Map<string, string>();
  const real = (f: string) => {
    try {
      return realpathSync(f) === f;
    } catch {
      return false;
    }
  };
  for (const f of [...new Set(files)].sort()) {
    const st = statIfAny(f);
    const key = st ? `${st.dev}:${st.ino}` : `name:${f}`; // gone meanwhile: its read says so
    const kept = byIdentity.get(key);
    if (kept === undefined || (!real(kept) && real(f))) byIdentity.set(key, f);
  }
  return [...byIdentity.values()].sort();
}

/**
 * The symlinks among the directories of `files` that point at one of their own ancestors (or
 * themselves): a glob through one goes round a loop. Shortest first; one per loop.
 */
function symlinkLoops(files: readonly string[]): string[] {
  const checked = new Set<string>();
  const loops: string[] = [];
  for (const f of files) {
    for (let dir = path.dirname(f); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
      if (checked.has(dir)) continue;
      checked.add(dir);
      try {
        if (!lstatSync(dir).isSymbolicLink()) continue;
        const target = realpathSync(dir);
        const parent = realpathSync(path.dirname(dir));
        if (parent === target || parent.startsWith(target + path.sep)) loops.push(dir);
      } catch {
        // gone meanwhile, or a dangling link: no loop through it
      }
    }
  }
  return loops.sort((a, b) => a.length - b.length || a.localeCompare(b)).filter((l, i, all) => !all.slice(0, i).some((o) => l.startsWith(o + path.sep)));
}

/**
 * A pattern given relative to `dir` (the working directory of `--source-path`) made absolute,
 * with the glob characters in `dir`'s own name escaped: only the part the user wrote is a glob.
 */
export function patternFrom(dir: string, pattern: string): string {
  return path.isAbsolute(pattern) ? pattern : `${convertPathToPattern(path.resolve(dir))}/${pattern}`;
}

/** Absolute inputs of one or more patterns, each file once (by identity, across patterns), in sorted (read) order. */
export function expandInputs(patterns: string | string[], baseDir = process.cwd()): string[] {
  return readOnce((Array.isArray(patterns) ? patterns : [patterns]).flatMap((p) => matchInputs(p, baseDir)));
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
  if (!isGlob(pattern) || isSluiceSibling(file)) return false;
  const posix = (p: string) => p.split(path.sep).join('/');
  const candidate = path.isAbsolute(pattern) ? posix(file) : posix(path.relative(baseDir, file));
  return picomatch(posix(path.posix.normalize(posix(pattern))))(candidate);
}
