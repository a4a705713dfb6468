/**
 * Whether dist/ is the build of src/ as it is: the same test bin/sluice.js makes to run dist/
 * (its stamp no older than any file of src/). CommonJS so jest.config.js can use it as well as
 * the tests (through package.ts).
 */
const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../..');

/** Newest modification time (ms) of any file under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
  }
  return latest;
}

function builtIsCurrent(root = REPO) {
  const stamp = path.join(root, 'dist', '.build-stamp');
  return fs.existsSync(stamp) && newest(path.join(root, 'src')) <= fs.statSync(stamp).mtimeMs;
}

module.exports = { builtIsCurrent, REPO };
