/**
 * A worker drops a unit of a run that is over (cluster/unit.ts `over`): asked before the engine
 * starts, the unit does not run and nothing is created beside the target; asked again while it
 * runs and before it records its result, the unit is dropped and its attempt directory (and the
 * staging folders it left empty) removed. In this process (runUnit, as a worker calls it), on a
 * tiny CSV with an inline stage: no Redis is needed to ask whether a run is over.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { clusterPlan } from '../../../src/cluster/plan';
import { DroppedUnit, runUnit } from '../../../src/cluster/unit';
import { planFingerprint } from '../../../src/runtime/run';
import type { UnitJobData } from '../../../src/cluster/jobs';
import { FIXTURE_STAGES, workspace } from '../../helpers/workspace';

const ws = workspace('sluice-unit-drop-');
afterAll(() => ws.cleanup());
const input = path.join(ws.dir, 'in.csv');
writeFileSync(input, ['id,v', ...Array.from({ length: 40 }, (_, j) => `${j},${j}.5`)].join('\n') + '\n');
const log = pino({ level: 'silent' });

async function unitOf(name: string): Promise<{ data: UnitJobData; out: string }> {
  const out = path.join(ws.dir, name);
  mkdirSync(out);
  const config = ws.config({ name, source: { format: 'csv', path: input, batchRows: 10 }, stages: [{ name: 'same', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'inline' }], sink: { format: 'parquet', path: path.join(out, 'all.parquet') } }, `${name}.config.ts`);
  const { plan } = await clusterPlan(config, {});
  return { data: { runId: name, config, overrides: {}, fingerprint: planFingerprint(plan), unit: 0, file: input }, out };
}

it('a run that is over before the engine starts: the unit is dropped, nothing runs, nothing is created beside the target', async () => {
  const { data, out } = await unitOf('before');
  let asked = 0;
  const run = runUnit(data, 1, log, {
    over: async () => {
      asked++;
      return 'the run was cancelled (test)';
    },
  });
  await expect(run).rejects.toBeInstanceOf(DroppedUnit);
  await expect(run).rejects.toThrow(/dropped unit 0 \(.*in\.csv\) of run before before it started it: the run was cancelled \(test\); nothing of it is kept/);
  expect(asked).toBe(1);
  expect(readdirSync(out)).toEqual([]);
});

it('a run that ends once the unit is under way: the unit is dropped, its attempt directory and the staging it left empty are removed', async () => {
  const { data, out } = await unitOf('during');
  let asked = 0;
  // Going on when asked first (before the engine starts), over from then on: the unit is dropped wherever it is when asked again.
  const run = runUnit(data, 1, log, { over: async () => (asked++ === 0 ? undefined : 'the run failed (test)'), overPollMs: 5 });
  await expect(run).rejects.toThrow(/dropped unit 0 \(.*in\.csv\) of run during (while it ran it \(at its next batch\)|before it recorded it): the run failed \(test\); nothing of it is kept/);
  expect(asked).toBeGreaterThanOrEqual(2);
  expect(readdirSync(out)).toEqual([]);
});

it('a run that goes on: the unit is staged and recorded as before (the check only asks)', async () => {
  const { data, out } = await unitOf('going');
  const r = await runUnit(data, 1, log, { over: async () => undefined, overPollMs: 5 });
  expect(r.rows).toBe(40);
  expect(r.sinks[0]!.rows).toBe(40);
  // Staged beside the target, for the commit job (not part of this test: removed with the workspace).
  expect(readdirSync(out)).toEqual(['.all.parquet.sluice-staging']);
});
