#!/usr/bin/env node
'use strict';
// The CLI's node entry (bin/sluice, the command, sets MALLOC_ARENA_MAX and GLIBC_TUNABLES and execs this).
//
// Runs the built JavaScript in dist/ (the package ships only that) when it is current, so
// `--help` loads neither the TS loader nor the engine. In the repo, dist/ is built by
// `npm ci` (npm's `prepare`) and `npm run build`; once a file of src/ is newer than that
// build, or dist/ is missing, sluice runs from src/ through its own TypeScript loader
// (registered by absolute path, so it works from any working directory): an edit takes
// effect at once, only start-up is slower. SLUICE_FROM_SOURCE=1 forces src/.
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.join(__dirname, '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');

const { stampIsCurrent } = require('./build-stamp.js');

function builtIsCurrent() {
  if (process.env.SLUICE_FROM_SOURCE === '1' || !fs.existsSync(path.join(dist, 'cli', 'main.js'))) return false;
  if (!fs.existsSync(src)) return true; // an installed package: dist/ is all there is
  return stampIsCurrent(root);
}

const cli = builtIsCurrent()
  ? Promise.resolve().then(() => require(path.join(dist, 'cli', 'main.js')))
  : import(pathToFileURL(path.join(src, 'register.mjs')).href).then(() => import(pathToFileURL(path.join(src, 'cli', 'main.ts')).href));

cli
  .then((m) => (m.main ?? m.default.main)(process.argv.slice(2)))
  // Exit as soon as the command is done: a timer or socket a stage left behind (or a stage
  // still stuck in setup after an abort) must not keep a finished job alive.
  .then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`sluice: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );
