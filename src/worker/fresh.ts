/**
 * A stage module's own instance for each copy of each run: state a stage keeps at module level
 * (running sums, a counter, a cache: the way a newcomer writes it) is one copy's, as it is in a
 * thread or child copy, which loads the module afresh. In one process (the embedded `run()`,
 * `sluice/testing`, a cluster worker running unit after unit and run after run, jest), a module
 * is loaded once and cached: without this, a second run, after the first or at the same time,
 * started from the first run's sums, and two inline copies of one run shared one set of them.
 *
 * Packages (anything under node_modules) and sluice itself stay shared, so the batches a stage
 * builds are made by the same apache-arrow the engine reads and polars' native addon is not
 * loaded again; the stage's own files (the module and the files of the user's it requires) are
 * evaluated anew.
 *
 * What it costs (measured in the report of this change): one evaluation of the module per copy
 * per run, except the first copy in the process, which takes the instance the checks already
 * loaded (`copyInstance`). A CommonJS instance (every TypeScript stage: tsx's require hook) is
 * dropped from the module cache once loaded, so it is collected when its run ends: a process
 * that runs thousands of runs keeps none of them. An ES module instance (an `.mjs` stage, or an
 * ESM-only project) is imported under a URL of its own (`?sluice-run=<n>`), which Node keeps for
 * the life of the process: its code and whatever its module scope still holds after the run.
 */
import path from 'node:path';
import type { StageDefinition } from './api';
import { loadStageDefinition, loadedByUs, releaseLoaded } from './load';

/** The part of jest's module API used here; jest injects `jest` into every module it loads. */
interface JestModules {
  isolateModulesAsync?(fn: () => Promise<void>): Promise<void>;
  setMock(moduleName: string, exports: unknown): unknown;
}
declare const jest: JestModules | undefined;

const SLUICE_FILES = path.resolve(__dirname, '..') + path.sep;
const NODE_MODULES = `${path.sep}node_modules${path.sep}`;
const isShared = (file: string) => file.includes(NODE_MODULES) || file.startsWith(SLUICE_FILES);

let instances = 0;
/** Modules whose cached instance a copy has taken (it is no one else's from then on). */
const claimed = new Set<string>();

/**
 * The loader of a run's copies on this thread (an inline copy, the main-thread host of
 * `combine`): the instance sluice's own checks loaded, if no copy has taken it yet and nothing
 * but sluice loaded it (no module of the user's holds it); else a fresh instance. The checks
 * only read a stage's declarations (`reads`, `outputColumns`, whether it has `flush`), so that
 * instance starts as fresh as a new one, without a second evaluation in a one-run process (the CLI).
 */
export function copyInstance(modulePath: string): Promise<StageDefinition> {
  if (!claimed.has(modulePath) && loadedByUs(modulePath)) {
    claimed.add(modulePath);
    return loadStageDefinition(modulePath);
  }
  return freshInstance(modulePath);
}

/** Loads run one at a time: each takes the module cache apart and puts it back, and jest's isolation cannot nest. */
let queue: Promise<unknown> = Promise.resolve();

/** A new instance of the stage module, never one handed out before (sluice/testing's loader). */
export function freshInstance(modulePath: string): Promise<StageDefinition> {
  const load = () => {
    // An ESM stage (.mjs, or a `"type": "module"` project) is imported with a query of its own:
    // Node evaluates that URL as a module of its own.
    const importQuery = `sluice-run=${++instances}`;
    const jestApi = jestModules();
    return jestApi?.isolateModulesAsync ? loadInJestIsolation(jestApi, modulePath, importQuery) : loadUncached(modulePath, importQuery);
  };
  const loaded = queue.then(load, load);
  queue = loaded.catch(() => undefined);
  return loaded;
}

/** jest's module API, when running under jest: injected as `jest`, or (with `injectGlobals: false`) from `@jest/globals`. */
function jestModules(): JestModules | undefined {
  if (typeof jest !== 'undefined') return jest;
  if (!process.env.JEST_WORKER_ID) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest answers this require itself, without resolving it
    return (require('@jest/globals') as { jest: JestModules }).jest;
  } catch {
    return undefined;
  }
}

/**
 * Under jest, `require.cache` cannot be edited: the stage loads in an isolated registry
 * (`jest.isolateModulesAsync`) into which the shared modules of the test's own registry are
 * handed as they are (`jest.setMock` with the same exports: nothing is really mocked).
 */
async function loadInJestIsolation(jestApi: JestModules, modulePath: string, importQuery: string): Promise<StageDefinition> {
  const shared = Object.keys(require.cache)
    .filter(isShared)
    .map((file) => [file, require.cache[file]?.exports] as const);
  let definition: StageDefinition | undefined;
  await jestApi.isolateModulesAsync!(async () => {
    for (const [file, exports] of shared) if (exports !== undefined) jestApi.setMock(file, exports);
    definition = await loadStageDefinition(modulePath, { importQuery });
  });
  return definition!;
}

/**
 * Under Node: the user's files are taken out of the CommonJS cache while the stage loads (so it
 * and every file of the user's it requires are evaluated anew), then what that load added is
 * dropped and what was there is put back (the checks' instance, and the user's own program,
 * stay as they were).
 */
async function loadUncached(modulePath: string, importQuery: string): Promise<StageDefinition> {
  const cache = require.cache;
  const setAside = new Map<string, NodeJS.Module>();
  for (const [file, mod] of Object.entries(cache)) {
    if (mod && !isShared(file)) {
      setAside.set(file, mod);
      delete cache[file];
    }
  }
  // A module system whose cache refuses the eviction would hand back the old instance: say so.
  const kept = [...setAside.keys()].find((file) => file in cache);
  if (kept !== undefined) {
    for (const [file, mod] of setAside) cache[file] = mod;
    throw new Error(`cannot load a fresh instance of ${modulePath}: this module system keeps ${kept} cached (a test runner's own registry?); run the stage in thread or process mode instead`);
  }
  try {
    return await loadStageDefinition(modulePath, { importQuery });
  } finally {
    for (const file of Object.keys(cache)) {
      if (isShared(file)) continue;
      // Node lists every module a module required among its children and keeps them there: the
      // fresh ones would never be collected.
      releaseLoaded(cache[file]);
      delete cache[file];
    }
    for (const [file, mod] of setAside) cache[file] = mod;
  }
}
