/**
 * `sluice init [dir]`: a project that works at once. `package.json` is written here (its pins
 * come from sluice's own package.json, so they cannot drift: sluice at this version,
 * apache-arrow and nodejs-polars at sluice's own ranges); everything else is copied from
 * `templates/init/` (a pipeline, a stage and its test, sample data, a README).
 * Nothing is overwritten: a file already there stops it before anything is written.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The package root: two levels above this file, from src/cli/ and from dist/cli/ alike. */
const ROOT = path.join(__dirname, '..', '..');
const TEMPLATE = path.join(ROOT, 'templates', 'init');

interface OwnPackage {
  version: string;
  engines?: Record<string, string>;
  dependencies: Record<string, string>;
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

export function packageJson(name: string, own: OwnPackage): string {
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    scripts: {
      start: 'sluice run pipeline.config.ts',
      // sluice/register: the TypeScript loader sluice itself uses, so tests load stages as runs do.
      test: 'node --import sluice/register --test stages/*.test.ts',
    },
    engines: own.engines,
    // The same apache-arrow and nodejs-polars ranges as sluice's own: npm dedupes them into one
    // copy, shared by the engine and your stages (batches cross between them).
    dependencies: { sluice: `^${own.version}`, 'apache-arrow': own.dependencies['apache-arrow'], 'nodejs-polars': own.dependencies['nodejs-polars'] },
  };
  return JSON.stringify(pkg, null, 2) + '\n';
}

/** Scaffold into `dir`; returns what to print. Throws an Error naming the files in the way. */
export function initProject(dir: string): string {
  const target = path.resolve(dir);
  const own = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as OwnPackage;
  const name = packageName(target);
  const files = new Map<string, string>([['package.json', packageJson(name, own)], ['.gitignore', 'node_modules/\nout/\n']]);
  for (const rel of templateFiles()) files.set(rel, readFileSync(path.join(TEMPLATE, rel), 'utf8').replaceAll('{{name}}', name));
  const taken = [...files.keys()].filter((rel) => existsSync(path.join(target, rel)));
  if (taken.length) throw new Error(`${target} already has ${taken.join(', ')}: nothing was written (sluice init never overwrites; choose an empty folder)`);
  for (const [rel, text] of files) {
    mkdirSync(path.dirname(path.join(target, rel)), { recursive: true });
    writeFileSync(path.join(target, rel), text, { flag: 'wx' });
  }
  const cd = path.relative(process.cwd(), target);
  return [
    `✔ created ${name} in ${target}: ${[...files.keys()].join(', ')}`,
    '',
    'next:',
    ...(cd ? [`  cd ${cd.includes(' ') ? JSON.stringify(cd) : cd}`] : []),
    '  npm install',
    '  npm start      # runs the pipeline: out/revenue.parquet',
    '  npm test       # tests the stage',
  ].join('\n');
}

/** The command: prints what it did or why not; returns the exit code. */
export function initCommand(args: { dir: string }): number {
  try {
    process.stdout.write(initProject(args.dir) + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`sluice: init: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
