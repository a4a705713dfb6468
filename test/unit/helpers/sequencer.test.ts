/**
 * test/sequencer.cjs: jest starts the known-slow files first even without cached timings (a
 * clean clone, as on CI), and test/slow-files.json names only files that exist.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../../helpers/cli';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Sequencer = require('../../sequencer.cjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ESTIMATES: Record<string, number> = require('../../slow-files.json');

/** A test as jest hands it over, with no cached timings (`cache: false`: jest reads none). */
const testOf = (rel: string, size = 100) => ({
  path: path.join(REPO, rel),
  context: { config: { rootDir: REPO, cache: false, cacheDirectory: '/nonexistent', id: 'x' }, hasteFS: { getSize: () => size } },
});

it('starts the files slow-files.json lists before the others, slowest first, then the rest by size', () => {
  const listed = Object.keys(ESTIMATES);
  const [slowest, second] = [...listed].sort((a, b) => ESTIMATES[b] - ESTIMATES[a]);
  const tests = [testOf('test/unit/new-small.test.ts', 10), testOf(second), testOf('test/unit/new-big.test.ts', 99_999), testOf(slowest)];
  const order = new Sequencer({}).sort(tests).map((t: { path: string }) => path.relative(REPO, t.path));
  expect(order).toEqual([slowest, second, 'test/unit/new-big.test.ts', 'test/unit/new-small.test.ts']);
});

it('lists only test files that exist, with a duration in seconds', () => {
  expect(Object.keys(ESTIMATES).length).toBeGreaterThan(10);
  for (const [rel, seconds] of Object.entries(ESTIMATES)) {
    expect({ rel, exists: existsSync(path.join(REPO, rel)) }).toEqual({ rel, exists: true });
    expect(seconds).toBeGreaterThan(0);
  }
});
