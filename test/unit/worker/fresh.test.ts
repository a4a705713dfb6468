/**
 * src/worker/fresh.ts under plain Node, as an embedded program or a cluster worker loads stages
 * (jest's own module registry is the test kit's path: test/unit/testing/module-state.test.ts):
 * test/fixtures/scripts/fresh-instances.cjs loads a TypeScript and an ES-module stage whose
 * state lives in a helper file. The first copy takes the instance the checks loaded (TypeScript:
 * no second evaluation in a one-run process); every later one is its own, helper included; the
 * checks' instance stays cached; sluice's loader keeps no fresh instance (it would never be
 * collected); the 100th fresh ES-module instance of one module is told, once.
 */
import path from 'node:path';
import { REPO, runNode } from '../../helpers/cli';

it('every copy its own instance, helper files included; the checks\' instance kept; nothing kept by the loader', async () => {
  const r = await runNode([path.join(REPO, 'test/fixtures/scripts/fresh-instances.cjs')], { timeoutMs: 60_000 });
  expect(r.stderr).toMatch(/^\(node:\d+\) \[SLUICE_ESM_INSTANCES\] Warning: the stage module \S+stage\.mjs is an ES module run inline, loaded afresh for each copy of each run: this process now keeps 100 instances of it/);
  expect(JSON.parse(r.stdout)).toEqual({
    // 4 instances: the checks', the first copy's (the same, claimed), the second's, the third's: 3 distinct.
    ts: { firstIsTheChecks: true, distinct: 3, bumps: [1, 2, 1, 1, 2], checksStillCached: true },
    // An ES module's cached instance may be the user's own import: every copy's is fresh (4 distinct).
    mjs: { firstIsTheChecks: false, distinct: 4, bumps: [1, 2, 1, 1, 2], checksStillCached: true },
    loaderChildrenGrew: 0,
    // Node keeps every ES module instance: the 100th of one module is told, once (on stderr, as Node prints warnings).
    // (the script keeps a warning's first 60 characters: how many of them the path takes depends on where the repo is)
    warnings: [`SLUICE_ESM_INSTANCES: ${`the stage module ${path.join(REPO, 'test/fixtures/fresh/stage.mjs')} is an ES module run inline`.slice(0, 60)}`],
  });
});
