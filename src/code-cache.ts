/**
 * Built sluice keeps V8's compiled code of its own files between processes. A trivial
 * `sluice run` spends about a fifth of its CPU compiling the ~3 MB of JavaScript it loads
 * (dist/ and its one-file bundles of apache-arrow, zod and yargs), and so does every process
 * copy; Node 20 has no `module.enableCompileCache` (22.1+), so this is its smaller cousin:
 * each file of this build compiles through `vm.Script` with the `cachedData` a previous
 * process left, and a file that had none (or whose data V8 rejected) leaves its data when the
 * process exits, including the functions that ran (`createCachedData` after running them).
 *
 * Safe when dist/ changes: a cache entry names the file it was made from by path, device,
 * inode, size and modification and change times (nanoseconds); a rebuilt, edited, copied or
 * reinstalled file differs in one of them and compiles afresh (the change time cannot be set
 * back, even where npm or tar set the modification time). V8 checks its own version and flags
 * and rejects data of another node. The cache lives in a directory of this user's only
 * (`<tmpdir>/sluice-code-cache-<uid>`, mode 0700, checked before use), one file per source
 * file, replaced whole by a rename, so concurrent processes never read a torn entry.
 * Any failure to read or write it only costs the compile it would have saved.
 *
 * Only this build's own `.js`/`.cjs` files (this file's folder) take this path, and only those
 * without `import()` or a `#!` line (a `vm.Script` would need its own dynamic-import hook); the user's files,
 * packages and everything from source (tsx, jest) load as before. Installed first by each entry
 * (the CLI, a process copy, a stage, source or encoder thread: a thread that is terminated
 * writes nothing, it reads what the processes left); an embedded `run()` never installs it.
 * `SLUICE_CODE_CACHE=0` turns it off.
 */
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync, type BigIntStats } from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

type Compile = (this: NodeModule, content: string, filename: string, format?: string) => unknown;
type Loader = {
  prototype: { _compile: Compile; require(id: string): unknown };
  wrap(content: string): string;
  _resolveFilename(request: string, parent: NodeModule, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: NodeModule): string[] | null;
  _extensions: unknown;
  _cache: unknown;
};

const OWN = __dirname + path.sep;

let installed = false;

/** The directory of this user's cache, made 0700 if missing; undefined when it is not safely ours. */
function cacheDir(): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const dir = path.join(os.tmpdir(), `sluice-code-cache-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch {
    // there already (or not creatable: lstat says)
  }
  try {
    const st = lstatSync(dir);
    // Another user's directory (or a link to one) could feed us compiled code: never use it.
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** What a cache entry must match: the file as it is on disk now. */
function identity(filename: string, st: BigIntStats): string {
  return `${filename}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}\0${process.version}\n`;
}

/** The entry's file for `filename`: one per source file, so a rebuild replaces rather than adds. */
function entryFile(dir: string, filename: string): string {
  let h = 0x811c9dc5; // FNV-1a of the path: a name, not a check (the entry holds its full identity)
  for (let i = 0; i < filename.length; i++) h = Math.imul(h ^ filename.charCodeAt(i), 0x01000193);
  return path.join(dir, `${(h >>> 0).toString(16)}-${path.basename(filename)}`);
}

/** The cached data for `id` in `file`, if the entry is for exactly that. */
function readEntry(file: string, id: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  const head = Buffer.byteLength(id);
  return bytes.length > head && bytes.toString('utf8', 0, head) === id ? bytes.subarray(head) : undefined;
}

function writeEntry(file: string, id: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, id);
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The `require` Node gives a module, for a module compiled here. */
function requireFor(loader: Loader, mod: NodeModule): NodeJS.Require {
  const req = ((id: string) => mod.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: unknown) => loader._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => loader._resolveLookupPaths(request, mod);
  req.resolve = resolve;
  req.main = require.main;
  req.extensions = loader._extensions as NodeJS.RequireExtensions;
  req.cache = loader._cache as NodeJS.Dict<NodeModule>;
  return req;
}

/** Installs the cache in this process (once); false where it does not apply. */
export function useCodeCache(): boolean {
  if (installed) return true;
  // From source (tsx, jest) there is no build to cache; the user may turn it off.
  if (!__filename.endsWith('.js') || process.env.SLUICE_CODE_CACHE === '0') return false;
  const loader = Module as unknown as Loader;
  const compile = loader.prototype._compile;
  // A hook someone installed before us (a coverage tool, a test's probe) expects to see every
  // compile, and a policy manifest checks each file's integrity in Node's own _compile: step aside.
  if (!/\bwrapSafe\(/.test(Function.prototype.toString.call(compile)) || [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('policy'))) return false;
  const dir = cacheDir();
  if (dir === undefined) return false;
  installed = true;
  const toWrite: { script: vm.Script; file: string; id: string }[] = [];
  loader.prototype._compile = function (this: NodeModule, content: string, filename: string, format?: string) {
    if (format === 'module' || typeof filename !== 'string' || !filename.startsWith(OWN) || !/\.c?js$/.test(filename) || content.startsWith('#!') || content.includes('import(')) {
      return compile.call(this, content, filename, format);
    }
    let id: string;
    try {
      id = identity(filename, statSync(filename, { bigint: true }));
    } catch {
      return compile.call(this, content, filename, format);
    }
    const file = entryFile(dir, filename);
    const cachedData = readEntry(file, id);
    const script = new vm.Script(loader.wrap(content), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected === true) toWrite.push({ script, file, id });
    const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return fn.call(this.exports, this.exports, requireFor(loader, this), this, filename, path.dirname(filename));
  };
  process.once('exit', () => {
    for (const { script, file, id } of toWrite) {
      try {
        writeEntry(file, id, script.createCachedData());
      } catch {
        // a full disk or a vanished directory: the next process compiles this file again
      }
    }
  });
  return true;
}

useCodeCache();
