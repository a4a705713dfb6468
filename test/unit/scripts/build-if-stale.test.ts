/**
 * `node scripts/build.mjs --if-stale` (what `npm test` runs before jest) rebuilds dist/ exactly
 * when it is not the build of src/ as it is on disk: after `npm ci` built it, a second build is
 * ~15 s of CPU for nothing, but a skipped build that was needed would let the CLI tests (which
 * run dist/) test old code. Run on a copy of the script in a scratch project whose `tsc` is a
 * stand-in that writes `dist/<name>.js` for each `src/<name>.ts` (the real one costs 3 s of
 * CPU a build even on two files; what is tested is when the script builds, not tsc).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { workspace, type Workspace } from '../../helpers/workspace';

const REPO = path.resolve(__dirname, '../../..');
let ws: Workspace;
const at = (...p: string[]) => path.join(ws.dir, ...p);

/** Runs the copied build; says whether it built (dist/ made anew) or skipped. */
function build(...args: string[]): 'built' | 'skipped' {
  const marker = at('dist', 'marker');
  if (existsSync(at('dist'))) writeFileSync(marker, ''); // a rebuild removes dist/ first, and the marker with it
  const r = spawnSync(process.execPath, [at('scripts', 'build.mjs'), ...args], { cwd: ws.dir, encoding: 'utf8' });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  expect(existsSync(at('dist', 'a.js'))).toBe(true);
  return existsSync(marker) ? 'skipped' : 'built';
}

/** Dates a file a minute into the future: newer than any stamp written now (no sleep needed). */
const touchLater = (file: string) => utimesSync(file, new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
/** Dates it back to 1970: older than any stamp. */
const touchEarly = (file: string) => utimesSync(file, new Date(0), new Date(0));

beforeAll(() => {
  ws = workspace('sluice-build-');
  mkdirSync(at('scripts'));
  mkdirSync(at('src'));
  copyFileSync(path.join(REPO, 'scripts', 'build.mjs'), at('scripts', 'build.mjs'));
  // Stand-ins for the bundlers build.mjs imports (yargs, zod and apache-arrow into dist/vendor/): what is tested is when it builds.
  for (const [file, name] of [['bundle-yargs.mjs', 'bundleYargs'], ['bundle-zod.mjs', 'bundleZod'], ['bundle-arrow.mjs', 'bundleArrow']]) {
    writeFileSync(at('scripts', file), `import { mkdirSync, writeFileSync } from 'node:fs';\nimport path from 'node:path';\nexport async function ${name}(out) { mkdirSync(path.dirname(out), { recursive: true }); writeFileSync(out, ''); }\n`);
  }
  mkdirSync(at('node_modules', 'typescript', 'bin'), { recursive: true });
  writeFileSync(at('node_modules', 'typescript', 'package.json'), '{"name":"typescript"}');
  writeFileSync(
    at('node_modules', 'typescript', 'bin', 'tsc'),
    `const fs = require('node:fs'); const path = require('node:path');
const root = path.dirname(process.argv[process.argv.indexOf('-p') + 1]);
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
for (const f of fs.readdirSync(path.join(root, 'src')).filter((f) => f.endsWith('.ts'))) fs.writeFileSync(path.join(root, 'dist', f.replace(/\\.ts$/, '.js')), '');
`,
  );
  writeFileSync(at('tsconfig.build.json'), '{}');
  writeFileSync(at('src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(at('src', 'b.mjs'), 'export const b = 2;\n');
});
afterAll(() => ws.cleanup());

it('builds when there is no dist/, and skips when dist/ is the build of src/ as it is', () => {
  expect(build('--if-stale')).toBe('built');
  expect(JSON.parse(readFileSync(at('dist', '.build-stamp'), 'utf8')).files).toEqual(['a.ts', 'b.mjs']);
  expect(build('--if-stale')).toBe('skipped');
});

it('rebuilds when a file of src/ is newer than the build, also one that is copied, not compiled', () => {
  touchLater(at('src', 'a.ts'));
  expect(build('--if-stale')).toBe('built');
  touchEarly(at('src', 'a.ts'));
  expect(build('--if-stale')).toBe('skipped');
  touchLater(at('src', 'b.mjs'));
  expect(build('--if-stale')).toBe('built');
  touchEarly(at('src', 'b.mjs'));
});

it('rebuilds when a file of src/ was added or removed, whatever the dates', () => {
  writeFileSync(at('src', 'c.ts'), 'export const c = 3;\n');
  touchEarly(at('src', 'c.ts')); // older than the stamp: only the list shows it
  expect(build('--if-stale')).toBe('built');
  expect(existsSync(at('dist', 'c.js'))).toBe(true);
  rmSync(at('src', 'c.ts'));
  expect(build('--if-stale')).toBe('built');
  expect(existsSync(at('dist', 'c.js'))).toBe(false);
});

it('rebuilds when the build config changed, when the stamp is an old empty one, and always without --if-stale', () => {
  touchLater(at('tsconfig.build.json'));
  expect(build('--if-stale')).toBe('built');
  touchEarly(at('tsconfig.build.json'));
  expect(build('--if-stale')).toBe('skipped');
  writeFileSync(at('dist', '.build-stamp'), ''); // a stamp from before stamps listed the files
  utimesSync(at('dist', '.build-stamp'), new Date(Date.now() + 120_000), new Date(Date.now() + 120_000));
  expect(build('--if-stale')).toBe('built');
  expect(build()).toBe('built');
  expect(statSync(at('dist', '.build-stamp')).size).toBeGreaterThan(0);
});
