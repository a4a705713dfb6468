// `npm run build`, also run by npm's `prepare` (so `npm ci` and `npm pack` build): compiles
// src/ to dist/ (CommonJS + .d.ts, tsconfig.build.json) and copies every other file of src/
// that is loaded at run time (.mjs, .cjs, .wasm, …) beside it, so new files need no list here.
// Copied entry shims that name a TypeScript sibling (`require('./x.ts')`) are pointed at
// the built `./x.js`. dist/.build-stamp carries the time the build started: bin/sluice.js
// runs dist/ only when no file of src/ is newer (see there).
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleYargs } from './bundle-yargs.mjs';
import { bundleZod } from './bundle-zod.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');
/** Not needed at run time: TypeScript (compiled instead) and the C source of the wasm scanner. */
const SKIP = /\.(ts|c)$/;
const REWRITE = /\.(mjs|cjs|js)$/;

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
const stamp = path.join(dist, '.build-stamp');
closeSync(openSync(stamp, 'w'));
utimesSync(stamp, started, started);
