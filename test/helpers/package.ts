/** The package as npm ships it: its packed file list, a tarball, a project that installs it. */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO } from './cli';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS, shared with jest.config.js
const built = require('./built.cjs') as { builtIsCurrent(root?: string): boolean };

/** What bin/sluice.js runs: dist/ when no file of src/ is newer than its build (see there). */
export const builtIsCurrent: (root?: string) => boolean = built.builtIsCurrent;

/** These tests check the build: a stale one would test old code, so say so instead. */
export function requireBuild(): void {
  if (!builtIsCurrent()) throw new Error('dist/ is missing or older than src/: run `npm run build` (npm test does) before this test');
}

/**
 * `npm pack` without its `prepare` script: rebuilding dist/ here would pull it from under
 * the other tests running at the same time (they run bin/sluice, which runs dist/).
 */
function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
}

/**
 * Packs the repo into `dir`: the tarball's path, and the paths inside the package
 * (`dist/index.js`, …) as it ships them (one `npm pack` gives both: a `--dry-run` for the list
 * beside it was a second pack of the same files).
 */
export function packInto(dir: string): { tarball: string; files: string[] } {
  const [report] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], REPO)) as { filename: string; files: { path: string }[] }[];
  return { tarball: path.join(dir, report.filename), files: report.files.map((f) => f.path).sort() };
}

/**
 * `npm install <specs>` in a project (from the registry and local tarballs; no scripts).
 * `--prefer-offline`: registry data npm has cached (the repo's own `npm ci` just fetched it) is
 * used without asking the registry whether it is still fresh; what is missing is fetched.
 * Measured on the scaffolded project: 39-40 s wall and 14.5-15.5 CPU-s without, 17-21 s and
 * 11-13 CPU-s with (the rest of the wait was ~680 revalidation requests).
 */
export function npmInstall(project: string, specs: string[] = []): void {
  npm(['install', '--prefer-offline', ...specs], project);
}

/** Runs a command in a project; returns status and output. */
export function inProject(project: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(command, args, { cwd: project, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
