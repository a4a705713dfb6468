/**
 * Two runs in one process (a program calling run() twice at once; a worker running units of a
 * cluster job): an error that escapes one run's inline stage (a timer that throws) fails that
 * run alone; the other commits its output. Before the guard was scoped to its run
 * (runtime/guard.ts, AsyncLocalStorage), the process-wide listener of each failed both.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, runNode } from '../helpers/cli';
import { FIXTURE_STAGES } from '../helpers/workspace';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-two-runs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('an error escaping one run fails that run only; the other commits', async () => {
  writeFileSync(path.join(dir, 'in.csv'), 'a,b\n' + Array.from({ length: 100 }, (_, i) => `${i},x${i}`).join('\n') + '\n');
  const r = await runNode(['--import', 'tsx', path.join(REPO, 'test/fixtures/scripts/two-runs.ts'), dir, FIXTURE_STAGES], { cwd: REPO });
  expect(r.code).toBe(0);
  const outcome = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { bad: string; good: string };
  expect(outcome.bad).toMatch(/deliberate error from a timer set in flush/);
  expect(outcome.good).toBe('ok');
  expect(existsSync(path.join(dir, 'out/good.csv'))).toBe(true);
  expect(existsSync(path.join(dir, 'out/bad.csv'))).toBe(false);
}, 60_000);
