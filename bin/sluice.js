#!/usr/bin/env node
'use strict';
// The CLI's node entry (bin/sluice, the command, sets MALLOC_ARENA_MAX and execs this).
// Registers sluice's own TypeScript loader (by absolute path, so it works from any working
// directory), then hands over to the CLI written in TypeScript.
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const src = path.join(__dirname, '..', 'src');
import(pathToFileURL(path.join(src, 'register.mjs')).href)
  .then(() => import(pathToFileURL(path.join(src, 'cli', 'main.ts')).href))
  .then((cli) => (cli.main ?? cli.default.main)(process.argv.slice(2)))
  // Exit as soon as the command is done: a timer or socket a stage left behind (or a stage
  // still stuck in setup after an abort) must not keep a finished job alive.
  .then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`sluice: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );
