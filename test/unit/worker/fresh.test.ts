/**
 * src/worker/fresh.ts under plain Node, as an embedded program or a cluster worker loads stages
 * (jest's own module registry is the test kit's path: test/unit/testing/module-state.test.ts):
 * test/fixtures/scripts/fresh-instances.cjs loads a TypeScript and an ES-module stage whose
 * state lives in a helper file. The first copy takes the instance the checks loaded (TypeScript:
 * no second evaluation in a one-run process); every later one is its own, helper included; the
 * checks' instance stays cached; sluice's loader keeps no fresh instance (it would never be collected).
 */
import path from 'node:path';
import { REPO, runNode } from '../../helpers/cli';

it('every copy its own instance, helper files included; the checks\' instance kept; nothing kept by the loader', async () => {
  const r = await runNode([path.join(REPO, 'test/fixtures/scripts/fresh-instances.cjs')], { timeoutMs: 60_000 });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({
    // 4 instances: the checks', the first copy's (the same, claimed), the second's, the third's: 3 distinct.
    ts: { firstIsTheChecks: true, distinct: 3, bumps: [1, 2, 1, 1, 2], checksStillCached: true },
    // An ES module's cached instance may be the user's own import: every copy's is fresh (4 distinct).
    mjs: { firstIsTheChecks: false, distinct: 4, bumps: [1, 2, 1, 1, 2], checksStillCached: true },
    loaderChildrenGrew: 0,
  });
});
