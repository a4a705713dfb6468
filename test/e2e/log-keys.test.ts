/**
 * A stage's log line names its stage once, in every mode. Lines from a thread or a child
 * process carry the worker's own bindings and were re-emitted through a logger bound to the
 * same keys, so pino wrote `"stage":"aggregate",…,"stage":"aggregate"` (JSON with a key twice,
 * which readers resolve differently).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, REPO } from '../helpers/cli';

let tmp: string;
beforeAll(() => (tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-log-keys-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it.each(['inline', 'thread', 'process'])('%s: the example aggregate\'s "aggregated" line has each key once', async (mode) => {
  const r = await runCli(['run', 'pipeline.config.ts', '--quiet', '--mode', `aggregate=${mode}`, '--sink-path', path.join(tmp, `${mode}.parquet`)], { cwd: REPO });
  expect(r.code).toBe(0);
  const lines = r.stderr.split('\n').filter((l) => l.includes('"msg":"aggregated"'));
  expect(lines).toHaveLength(1);
  const keys = [...lines[0].matchAll(/"([^"]+)":/g)].map((m) => m[1]);
  expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  expect(JSON.parse(lines[0])).toMatchObject({ stage: 'aggregate', groups: 210 });
});
