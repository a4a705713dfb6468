/**
 * `sluice init [dir]`: a project that works at once. `package.json` is written here (its pins
 * come from sluice's own package.json, so they cannot drift: sluice at this version,
 * apache-arrow and nodejs-polars at sluice's own ranges); everything else is copied from
 * `templates/init/` (a pipeline, its fixture cases, a stage and its test, a tsconfig, sample
 * data, a README).
 * Nothing is overwritten: every path it would write is checked first (a file, a folder or a
 * symlink, dangling or not, already there; a file where a folder goes; a folder it cannot
 * write in), and any of them stops it before anything is written.
 */
import { accessSync, constants, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { safeBlock } from './terminal-text';

/** The package root: two levels above this file, from src/cli/ and from dist/cli/ alike. */
const ROOT = path.join(__dirname, '..', '..');
const TEMPLATE = path.join(ROOT, 'templates', 'init');

interface OwnPackage {
  version: string;
  engines?: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Relative paths of every template file. */
function templateFiles(dir = TEMPLATE, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? templateFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

/** An npm package name from a folder name: lower case, URL-safe. */
export function packageName(dir: string): string {
  const name = path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return name || 'sluice-pipeline';
}

/**
 * What the project depends on for sluice: `spec` as given (a git URL, a range), a local
 * tarball or folder as an absolute `file:` path (npm resolves a relative one against the
 * project, not where init ran), or this version's range when none is given.
 */
export function sluiceSpec(own: OwnPackage, spec?: string, cwd = process.cwd()): string {
  if (spec === undefined || spec === '') return `^${own.version}`;
  if (/^\.{0,2}\/|\.tgz$|\.tar\.gz$/.test(spec) && !/^[a-z+]+:/.test(spec)) return `file:${path.resolve(cwd, spec)}`;
  return spec;
}

export function packageJson(name: string, own: OwnPackage, spec?: string): string {
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    scripts: {
      start: 'sluice run pipeline.config.ts',
      // sluice/register: the TypeScript loader sluice itself uses, so tests load stages as runs do;
      // then the pipeline's fixture cases (pipeline.cases.ts) through the engine, as at night.
      test: 'node --import sluice/register --test stages/*.test.ts && sluice test',
      typecheck: 'tsc -p .',
    },
    engines: own.engines,
    // The same apache-arrow and nodejs-polars ranges as sluice's own: npm dedupes them into one
    // copy, shared by the engine and your stages (batches cross between them).
    dependencies: { sluice: sluiceSpec(own, spec), 'apache-arrow': own.dependencies['apache-arrow'], 'nodejs-polars': own.dependencies['nodejs-polars'] },
    // The TypeScript sluice is built with: without it, `npx tsc` fetches an unrelated package.
    devDependencies: { typescript: own.devDependencies?.typescript ?? '^5', '@types/node': own.devDependencies?.['@types/node'] ?? '^20' },
  };
  return JSON.stringify(pkg, null, 2) + '\n';
}

/** Scaffold into `dir`; returns what to print. Throws an Error naming the files in the way. */
export function initProject(dir: string, spec?: string): string {
  const target = path.resolve(dir);
  const own = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as OwnPackage;
  const name = packageName(target);
  const files = new Map<string, string>([['package.json', packageJson(name, own, spec)], ['.gitignore', 'node_modules/\nout/\n']]);
  for (const rel of templateFiles()) files.set(rel, readFileSync(path.join(TEMPLATE, rel), 'utf8').replaceAll('{{name}}', name));
  const blocked = [...new Set([...files.keys()].map((rel) => obstacle(target, rel)).filter((o) => o !== undefined))];
  if (blocked.length) throw new Error(`cannot write into ${target}: ${blocked.join('; ')}: nothing was written (choose another folder)`);
  const taken = [...files.keys()].filter((rel) => lstatOf(path.join(target, rel)) !== undefined);
  if (taken.length) throw new Error(`${target} already has ${taken.join(', ')}: nothing was written (sluice init never overwrites; choose an empty folder)`);
  writeAll(target, files);
  const cd = path.relative(process.cwd(), target);
  return [
    `✔ created ${name} in ${target}: ${[...files.keys()].join(', ')}`,
    '',
    'next:',
    ...(cd ? [`  cd ${cd.includes(' ') ? JSON.stringify(cd) : cd}`] : []),
    // sluice is not on a registry yet: a bare `npm install` of `^version` is a 404 (see docs/getting-started.md).
    ...(spec ? ['  npm install'] : ['  npm install /path/to/sluice-' + own.version + '.tgz   # sluice is not on the npm registry yet: `npm pack` in its checkout makes this file', '                 # (or init again with --sluice <tarball or git URL>, then a plain npm install)']),
    '  npm start      # runs the pipeline: out/revenue.parquet',
    '  npm test       # the stage test, then the pipeline cases (sluice test)',
    '  npm run typecheck',
  ].join('\n');
}

/** What lstat says, or undefined when nothing is there (a dangling symlink IS there: existsSync says no). */
function lstatOf(p: string): Stats | undefined {
  return lstatSync(p, { throwIfNoEntry: false });
}

/**
 * Why `rel` cannot be written under `target`, walking its folders from the root down: a
 * non-folder (file, dangling symlink) where a folder goes, or the deepest existing folder
 * not writable. Undefined when it can be.
 */
function obstacle(target: string, rel: string): string | undefined {
  const file = path.join(target, rel);
  const folders: string[] = [];
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    folders.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  let deepest = folders[0];
  for (const dir of folders) {
    const l = lstatOf(dir);
    if (!l) break; // created by init, with everything under it
    const s = l.isSymbolicLink() ? statSync(dir, { throwIfNoEntry: false }) : l;
    if (!s) return `${dir} is a dangling symlink where a folder goes`;
    if (!s.isDirectory()) return `${dir} is a file where a folder goes`;
    deepest = dir;
  }
  try {
    accessSync(deepest, constants.W_OK | constants.X_OK);
  } catch {
    return `${deepest} is not writable`;
  }
  return undefined;
}

/** Writes every file; if one fails anyway (disk full, a race), removes what it wrote and the folders it made. */
function writeAll(target: string, files: Map<string, string>): void {
  const made: string[] = [];
  try {
    for (const [rel, text] of files) {
      const file = path.join(target, rel);
      const first = mkdirSync(path.dirname(file), { recursive: true });
      if (first) made.push(first);
      writeFileSync(file, text, { flag: 'wx' });
      made.push(file);
    }
  } catch (err) {
    for (const p of made.reverse()) rmSync(p, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}: nothing was kept (what init had written is removed)`, { cause: err });
  }
}

/** The command: prints what it did or why not; returns the exit code. */
export function initCommand(args: { dir: string; sluice?: string }): number {
  try {
    process.stdout.write(safeBlock(initProject(args.dir, args.sluice)) + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`sluice: init: ${safeBlock(err instanceof Error ? err.message : String(err))}\n`);
    return 1;
  }
}
