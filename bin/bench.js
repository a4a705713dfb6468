#!/usr/bin/env node
'use strict';
// `npm run bench`: registers sluice's TypeScript loader like bin/sluice.js, then runs bench/run.ts.
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.join(__dirname, '..');
import(pathToFileURL(path.join(root, 'src', 'register.mjs')).href)
  .then(() => import(pathToFileURL(path.join(root, 'bench', 'run.ts')).href))
  .catch((err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  });
