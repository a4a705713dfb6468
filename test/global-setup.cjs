/**
 * jest's globalSetup: the suite runs with a temporary directory of its own (TMPDIR), made
 * here and removed by test/global-teardown.cjs. Everything the tests and the processes they
 * start put in os.tmpdir() goes there, workspaces and sluice's own state alike (jest's
 * workers are started after this, and inherit it).
 *
 * Why: tsx keeps its transform cache in <tmpdir>/tsx-<uid> and, in every process that
 * transforms a file it has not seen (each config an e2e test writes is new), walks that whole
 * directory to expire old entries (tsx FileCache.expireDiskCache). A machine's shared cache
 * grows to tens of thousands of entries over a few days of runs (39 000 here): measured, a
 * `sluice run` of a new 1-row config cost 1.11 CPU-s with it and 0.87 with an empty one,
 * ~0.24 CPU-s in each of the suite's ~480 CLI runs. With a directory of its own the suite
 * also starts as it does on a clean CI machine, whatever other runs left in /tmp.
 * SLUICE_TEST_SHARED_TMP=1 keeps the machine's TMPDIR (to compare).
 */
const { mkdtempSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = function globalSetup() {
  if (process.env.SLUICE_TEST_SHARED_TMP === '1') return;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-jest-'));
  globalThis.__SLUICE_SUITE_TMP__ = dir;
  process.env.TMPDIR = dir;
};
