/**
 * Copies of an in-process run under jest start from the build (src/loader.ts copyEntry, set up
 * by jest.config.js): the same code as src/ when dist/ is current, at a fraction of the start-up
 * (a copy from src/ loads the TS loader and compiles the engine in every thread and child).
 * When dist/ is stale they stay on src/, so an edit is what runs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import { copyEntry, copyExecArgv } from '../../src/loader';
import { buildPlan } from '../../src/plan/build';
import { runPlan } from '../../src/runtime/run';
import { REPO } from '../helpers/cli';
import { builtIsCurrent } from '../helpers/package';

const built = builtIsCurrent();
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-loader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('is on exactly when dist/ is the build of src/ as it is', () => {
  expect(process.env.SLUICE_TEST_BUILT_COPIES).toBe(built ? path.join(REPO, 'dist') : undefined);
  expect(copyExecArgv()).toEqual(built ? [] : ['--import', expect.stringContaining('/src/register.mjs')]);
});

// Every entry a copy starts at (supervisor/thread.ts, piscina.ts, child.ts): its twin exists.
it.each(['worker/thread-entry.ts', 'worker/process-entry.ts', 'io/parquet/encoder/thread.cjs', 'io/sources/thread-entry.cjs'])('maps src/%s to a file of the build', (rel) => {
  const entry = copyEntry(path.join(REPO, 'src', rel));
  expect(entry).toBe(path.join(REPO, built ? 'dist' : 'src', built ? rel.replace(/\.ts$/, '.js') : rel));
  expect(existsSync(entry)).toBe(true);
});

(built ? it : it.skip)('a thread copy and a child copy of a run in this process run the build, not src/', async () => {
  writeFileSync(path.join(dir, 'in.csv'), 'id\n1\n2\n3\n');
  const file = path.join(dir, 'engines.jsonl');
  const stage = (name: string, mode: string) => ({ name, module: path.join(REPO, 'test/fixtures/stages/engine-of.ts'), mode, options: { file } });
  const checked = checkConfig({ name: 'engines', source: { format: 'csv', path: 'in.csv' }, stages: [stage('t', 'thread'), stage('p', 'process')], sink: { format: 'csv', path: path.join(dir, 'out.csv') } }, '', dir);
  const report = await runPlan(buildPlan(checked.config, checked), { log: pino({ level: 'silent' }) });
  expect(report.sink.rows).toBe(3);
  const copies = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; threadId: number; dist: boolean; src: boolean });
  expect(copies.map(({ dist, src }) => ({ dist, src }))).toEqual([{ dist: true, src: false }, { dist: true, src: false }]);
  // One on a thread of this process, one in a child.
  expect(copies.filter((c) => c.pid === process.pid && c.threadId !== 0)).toHaveLength(1);
  expect(copies.filter((c) => c.pid !== process.pid)).toHaveLength(1);
});
