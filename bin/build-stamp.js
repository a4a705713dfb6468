'use strict';
// Whether dist/ is the build of src/ as it is: its stamp (dist/.build-stamp, written by
// scripts/build.mjs, dated when that build started) no older than any file of src/. One
// function for the two that ask: bin/sluice.js, to run dist/ or src/, and the tests
// (test/helpers/built.cjs, and jest.config.js through it), to start copies from dist/ on the
// same condition, so they never disagree about which code is "current". Shipped beside
// bin/sluice.js; loads nothing but node's own modules.
const fs = require('node:fs');
const path = require('node:path');

/** Newest modification time (ms) of any file under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
  }
  return latest;
}

/** dist/ under `root` carries a stamp no file of src/ under `root` is newer than. */
function stampIsCurrent(root) {
  const stamp = path.join(root, 'dist', '.build-stamp');
  return fs.existsSync(stamp) && newest(path.join(root, 'src')) <= fs.statSync(stamp).mtimeMs;
}

module.exports = { newest, stampIsCurrent };
