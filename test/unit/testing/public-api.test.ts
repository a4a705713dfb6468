/** `sluice/testing` as a package entry: the ESM face lists every export, and both faces load from anywhere. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as testing from 'sluice/testing';
import { registerForChild } from '../../helpers/register-for-child';
import { FIXTURE_STAGES, workspace } from '../../helpers/workspace';

it('src/testing/index.mjs re-exports every value export of src/testing/index.ts', () => {
  const mjs = readFileSync(path.resolve(__dirname, '../../../src/testing/index.mjs'), 'utf8');
  const listed = /export const \{([^}]*)\} = api;/.exec(mjs)![1].split(',').map((s) => s.trim()).filter(Boolean);
  const values = Object.keys(testing).filter((k) => k !== '__esModule' && k !== 'default');
  expect(listed.sort()).toEqual(values.sort());
});

it.each(['script.ts', 'script.mjs'])('a %s outside any project imports sluice/testing and runs a stage', (name) => {
  const ws = workspace();
  try {
    const script = path.join(ws.dir, name);
    const stage = JSON.stringify(path.join(FIXTURE_STAGES, 'e2e-transform.ts'));
    const body = `const r = await runStage(${stage}, [{ id: 1, name: 'a', x: 1.5 }]);\nconsole.log(JSON.stringify(rowsOf(r), (k, v) => (typeof v === 'bigint' ? String(v) : v)));`;
    // A .ts file here is CommonJS (no package.json says otherwise): no top-level await.
    writeFileSync(script, `import { runStage, rowsOf } from 'sluice/testing';\n${name.endsWith('.ts') ? `(async () => {\n${body}\n})();` : body}\n`);
    const out = spawnSync(process.execPath, [...registerForChild(), script], { encoding: 'utf8', cwd: ws.dir });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual([{ id: '1', name: 'a', x: 1.5, x2: 3, label: 'a:1.5' }]);
  } finally {
    ws.cleanup();
  }
});
