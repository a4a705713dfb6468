/** Fresh inline module instances also under a jest configured with `injectGlobals: false`. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../../..');

it('a jest without injected globals runs two inline tests of a counting stage, each from fresh state', () => {
  const jestBin = require.resolve('jest/bin/jest');
  const out = spawnSync(
    process.execPath,
    [jestBin, '--config', path.join(REPO, 'jest.config.js'), '--injectGlobals=false', '--roots', path.join(REPO, 'test/fixtures/jest'), '--testMatch', '**/*.check.ts', '--maxWorkers=1', '--ci'],
    { cwd: REPO, encoding: 'utf8' },
  );
  expect(out.stderr).toMatch(/Tests:\s+2 passed, 2 total/);
  expect(out.status).toBe(0);
});
