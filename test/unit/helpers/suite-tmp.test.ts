/**
 * The suite runs with a temporary directory of its own (test/global-setup.cjs): tsx walks its
 * whole transform cache (<tmpdir>/tsx-<uid>) in every process that transforms a new config,
 * ~0.25 CPU-s per CLI run with a machine's shared cache of tens of thousands of entries. This
 * holds the setting in place: the test process and the processes it starts see the suite's
 * directory, not the machine's.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const shared = process.env.SLUICE_TEST_SHARED_TMP === '1';

(shared ? it.skip : it)("os.tmpdir() is the suite's own directory, here and in the processes a test starts", () => {
  expect(path.basename(os.tmpdir())).toMatch(/^sluice-jest-/);
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(require("node:os").tmpdir())'], { encoding: 'utf8' });
  expect(child.stdout).toBe(os.tmpdir());
});
