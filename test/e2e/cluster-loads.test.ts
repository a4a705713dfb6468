/**
 * Cluster mode costs nothing when it is not used: `--help` and an embedded run load neither
 * bullmq nor ioredis (only src/cluster imports them: lint/layers.cjs PACKAGES), while
 * `sluice worker --help` … is where they are allowed. Structure, not time.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, runNode } from '../helpers/cli';
import { requireBuild } from '../helpers/package';
import { FIXTURE_STAGES } from '../helpers/workspace';

const SLUICE_JS = path.join(REPO, 'bin/sluice.js');

/** The packages `node bin/sluice.js <args>` loaded (CommonJS: the built CLI). */
async function packagesLoadedBy(args: string[], dir: string) {
  const probe = path.join(dir, 'probe.cjs');
  const list = path.join(dir, 'modules.json');
  writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));\n`);
  const r = await runNode(['-r', probe, SLUICE_JS, ...args], { cwd: dir, timeoutMs: 120_000 });
  const modules = JSON.parse(readFileSync(list, 'utf8')) as string[];
  return { ...r, modules, packages: new Set(modules.map((m) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(m)?.[1]).filter(Boolean)) };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-cluster-loads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(requireBuild);

it('--help and an embedded run load neither bullmq nor ioredis', async () => {
  const help = await packagesLoadedBy(['--help'], dir);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('sluice worker');
  writeFileSync(path.join(dir, 'in.csv'), 'id,name\n1,a\n2,b\n');
  writeFileSync(path.join(dir, 'p.config.ts'), `export default { name: 'embedded', source: { format: 'csv', path: 'in.csv' }, stages: [{ name: 'same', module: ${JSON.stringify(path.join(FIXTURE_STAGES, 'identity.ts'))}, mode: 'inline' }], sink: { format: 'parquet', path: 'out.parquet' } };\n`);
  const run = await packagesLoadedBy(['run', 'p.config.ts', '--quiet', '--log-level', 'error'], dir);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  // The probe sees what the run loaded: apache-arrow (built, as one file: src/arrow-bundle.ts).
  expect(run.modules.some((m) => m.includes('/node_modules/apache-arrow/') || m === path.join(REPO, 'dist/vendor/apache-arrow.cjs'))).toBe(true);
  for (const r of [help, run]) for (const pkg of ['bullmq', 'ioredis']) expect(r.packages).not.toContain(pkg);
});
