/**
 * The run announces its commit just before the sink's rename (onCommitting: the temporary and
 * the target), so a death watch can tell after a kill whether the rename happened; a commit that
 * fails before its rename takes it back (onCommitFailed) while its temporary still exists, and
 * one that succeeds is followed by onCommitted.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../../src/config';
import { buildPlan } from '../../../src/plan/build';
import { runPlan } from '../../../src/runtime/run';

const FIXTURES = path.resolve(__dirname, '../../fixtures/stages');
const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-announce-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeFileSync(path.join(root, 'in.csv'), 'id\n1\n2\n3\n');

function plan(name: string, stage: { module: string; options?: Record<string, unknown> }, mode?: 'error-if-exists') {
  const out = path.join(root, `${name}.csv`);
  const resolved = checkConfig({ name, source: { format: 'csv', path: path.join(root, 'in.csv') }, stages: [{ name: 's', mode: 'inline', ...stage, options: { file: out, ...stage.options } }], sink: { format: 'csv', path: out, ...(mode && { mode }) } }, '', root);
  return { plan: buildPlan(resolved.config, resolved), out };
}

function recorder() {
  const calls: string[] = [];
  let temp = '';
  return {
    calls,
    opts: {
      log: pino({ level: 'silent' }),
      onCommitting: ([p, ...more]: readonly { temp: string; target: string; rows: number }[]) => {
        if (more.length) throw new Error('one sink, one publication');
        temp = p.temp;
        calls.push(`committing ${path.basename(p.target)} ${p.rows} rows, temporary there: ${existsSync(p.temp)}`);
      },
      onCommitFailed: () => calls.push(`failed, temporary there: ${existsSync(temp)}`),
      onCommitted: (files: readonly string[]) => calls.push(`committed ${files.map((f) => path.basename(f)).join()}, temporary there: ${existsSync(temp)}`),
    },
  };
}

it('a commit that succeeds: announced with its temporary, then committed (the temporary renamed)', async () => {
  const { plan: p, out } = plan('ok', { module: path.join(FIXTURES, 'identity.ts') });
  const r = recorder();
  await runPlan(p, r.opts);
  expect(r.calls).toEqual(['committing ok.csv 3 rows, temporary there: true', 'committed ok.csv, temporary there: false']);
  expect(readFileSync(out, 'utf8')).toBe('id\n1\n2\n3\n');
});

it('a commit refused before its rename (error-if-exists, the target appeared meanwhile): the sink\'s prepare finds it, so nothing is announced, and the target is left as it is', async () => {
  const { plan: p, out } = plan('taken', { module: path.join(FIXTURES, 'creates-in-flush.ts') }, 'error-if-exists');
  const r = recorder();
  await expect(runPlan(p, r.opts)).rejects.toThrow(/was created by something else during this run/);
  // Checked in prepare (io/sinks/kinds.ts), before the announcement: after prepare only the rename can fail.
  expect(r.calls).toEqual([]);
  expect(readFileSync(out, 'utf8')).toBe('written by something else during the run\n');
});

it('a commit whose rename fails after it was announced: the announcement is taken back while the temporary still exists (the run\'s teardown: before the sinks), then the temporary goes', async () => {
  const { plan: p, out } = plan('blocked', { module: path.join(FIXTURES, 'dir-in-flush.ts') });
  const r = recorder();
  await expect(runPlan(p, r.opts)).rejects.toThrow(out);
  expect(r.calls).toEqual(['committing blocked.csv 3 rows, temporary there: true', 'failed, temporary there: true']);
  // Then the teardown removed it: nothing of the run is left beside the folder that was in the way.
  expect(readdirSync(root).filter((f) => f.includes('blocked'))).toEqual(['blocked.csv']);
  expect(readdirSync(out)).toEqual(['inside']);
});
