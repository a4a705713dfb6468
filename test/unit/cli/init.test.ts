/** `sluice init`: what it writes, its pins, and that it never overwrites. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initProject, packageName } from '../../../src/cli/init';

const own = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
let tmp: string;
beforeEach(() => (tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-init-'))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

it('writes a package.json pinned to this sluice and its peer ranges, and the template files', () => {
  const dir = path.join(tmp, 'My Orders');
  const said = initProject(dir);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  expect(pkg.name).toBe('my-orders');
  expect(pkg.dependencies).toEqual({ sluice: `^${own.version}`, 'apache-arrow': own.dependencies['apache-arrow'], 'nodejs-polars': '0.24.1' });
  expect(pkg.scripts).toEqual({ start: 'sluice run pipeline.config.ts', test: 'node --import sluice/register --test stages/*.test.ts' });
  for (const f of ['pipeline.config.ts', 'stages/revenue.ts', 'stages/revenue.test.ts', 'data/orders.csv', 'README.md', '.gitignore']) expect(existsSync(path.join(dir, f))).toBe(true);
  const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
  expect(readme.trimEnd().split('\n')).toHaveLength(5);
  expect(readme).toMatch(/^# my-orders\n/);
  expect(said).toContain('npm install');
});

it('refuses a folder that has one of its files, naming it, and writes nothing', () => {
  mkdirSync(path.join(tmp, 'stages'));
  writeFileSync(path.join(tmp, 'stages/revenue.ts'), 'mine');
  expect(() => initProject(tmp)).toThrow(/already has stages\/revenue\.ts: nothing was written/);
  expect(readFileSync(path.join(tmp, 'stages/revenue.ts'), 'utf8')).toBe('mine');
  expect(existsSync(path.join(tmp, 'package.json'))).toBe(false);
});

it.each([
  ['/x/Nightly Job', 'nightly-job'],
  ['/x/.hidden', 'hidden'],
  ['/x/__', 'sluice-pipeline'],
])('names the package after the folder: %s → %s', (dir, name) => {
  expect(packageName(dir)).toBe(name);
});
