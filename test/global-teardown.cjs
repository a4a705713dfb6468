/** jest's globalTeardown: removes the suite's own temporary directory (test/global-setup.cjs). */
const { rmSync } = require('node:fs');

module.exports = function globalTeardown() {
  const dir = globalThis.__SLUICE_SUITE_TMP__;
  if (!dir) return;
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    // Something still held there (a mount a test could not undo): said, and left; the suite's result stands.
    process.stderr.write(`test/global-teardown.cjs: could not remove ${dir}: ${err.message}\n`);
  }
};
