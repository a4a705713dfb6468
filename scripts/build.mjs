// `npm run build`, also run by npm's `prepare` (so `npm ci` and `npm pack` build): compiles
// src/ to dist/ (CommonJS + .d.ts, tsconfig.build.json) and copies every other file of src/
// that is loaded at run time (.mjs, .cjs, .wasm, …) beside it, so new files need no list here.
// Copied entry shims that name a TypeScript sibling (`require('./x.ts')`) are pointed at
// the built `./x.js`. dist/.build-stamp carries the time the build started: bin/sluice.js
// runs dist/ only when no file of src/ is newer (see there).
//
// `--if-stale` (what `npm test` runs) builds only when dist/ is not the build of the src/ on
// disk: after `npm ci` (whose `prepare` just built it) or a second `npm test` with no edit in
// between, a rebuild is ~15 s of CPU that changes nothing. Stale means: no stamp, a file of
// src/ (or of the build's own inputs below) newer than the stamp, or a file of src/ added or
// removed since (the stamp lists them: a deleted file has no mtime to be newer).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleArrow } from './bundle-arrow.mjs';
import { bundleYargs } from './bundle-yargs.mjs';
import { bundleZod } from './bundle-zod.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');
/** Not needed at run time: TypeScript (compiled instead) and the C source of the wasm scanner. */
const SKIP = /\.(ts|c)$/;
const REWRITE = /\.(mjs|cjs|js)$/;

/** The build's inputs besides src/: a change to one of them changes dist/ too. */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'scripts/bundle-yargs.mjs', 'scripts/bundle-zod.mjs', 'scripts/bundle-arrow.mjs', 'package-lock.json'].map((f) => path.join(root, f));
const stamp = path.join(dist, '.build-stamp');

/** Every file under `dir`, relative to src/, sorted (what the stamp lists). */
function listed(dir = src) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listed(path.join(dir, e.name)) : [path.relative(src, path.join(dir, e.name))]))
    .sort();
}

function isCurrent() {
  let built;
  try {
    built = { at: statSync(stamp).mtimeMs, files: JSON.parse(readFileSync(stamp, 'utf8')).files };
  } catch {
    return false; // no stamp, or one from before stamps listed the files
  }
  const files = listed();
  if (JSON.stringify(files) !== JSON.stringify(built.files)) return false;
  return [...files.map((f) => path.join(src, f)), ...INPUTS].every((f) => !existsSync(f) || statSync(f).mtimeMs <= built.at);
}

if (process.argv.includes('--if-stale') && isCurrent()) {
  console.log('dist/ is the build of src/ as it is (scripts/build.mjs --if-stale): not rebuilt');
  process.exit(0);
}

const started = new Date();
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const built = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (built.status !== 0) {
  rmSync(dist, { recursive: true, force: true }); // no half-built dist/ for bin/ to pick up
  process.exit(built.status ?? 1);
}

function* assets(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* assets(full);
    else if (!SKIP.test(entry.name)) yield full;
  }
}
for (const file of assets(src)) {
  const target = path.join(dist, path.relative(src, file));
  mkdirSync(path.dirname(target), { recursive: true });
  if (!REWRITE.test(file)) copyFileSync(file, target);
  else writeFileSync(target, readFileSync(file, 'utf8').replace(/(['"])(\.{1,2}\/[^'"]+)\.ts\1/g, '$1$2.js$1'));
}
// yargs and zod as one CommonJS file each (why: bundle-yargs.mjs, bundle-zod.mjs); loaded by
// src/cli/yargs.ts and src/config/zod.ts.
await bundleYargs(path.join(dist, 'vendor', 'yargs.cjs'));
await bundleZod(path.join(dist, 'vendor', 'zod.cjs'));
// sluice's apache-arrow as one file (why: bundle-arrow.mjs), loaded in its place by src/arrow-bundle.ts.
await bundleArrow(path.join(dist, 'vendor', 'apache-arrow.cjs'));
// The files of src/ the build saw (so --if-stale sees one added or removed), dated when it started.
writeFileSync(stamp, JSON.stringify({ files: listed() }) + '\n');
utimesSync(stamp, started, started);
