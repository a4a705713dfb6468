// The CommonJS half of register.mjs, for built sluice (dist/) in worker threads and child
// processes that load a user's TypeScript stage: tsx's require hook and the `sluice` alias,
// without the ESM hooks. Those start a loader thread (~0.23 s of CPU in every thread and
// child, measured) and are not seen inside worker threads on Node 20 anyway; stages load
// with require() first (worker/load.ts), which registers them only for an ES module.
'use strict';
require('tsx/cjs');
const Module = require('node:module');
const path = require('node:path');

// In dist/ the build points this at ./index.js.
const entry = path.join(__dirname, './index.ts');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'sluice') return entry;
  return resolveFilename.call(this, request, ...rest);
};
