/**
 * A fresh instance of a stage module for each inline test run, so state a stage keeps at
 * module level (a counter, a cache) does not leak from one test into the next. Thread and
 * process runs get this for free: each run starts its own threads or children.
 *
 * Packages (anything under node_modules) and sluice itself stay shared, so the batches a
 * stage builds are made by the same apache-arrow the test uses and polars' native addon is
 * not loaded again; the stage's own files are evaluated anew.
 */
import path from 'node:path';
import type { StageDefinition } from '../worker/api';
import { loadStageDefinition } from '../worker/load';

/** The part of jest's module API used here; jest injects `jest` into every module it loads. */
interface JestModules {
  isolateModulesAsync?(fn: () => Promise<void>): Promise<void>;
  setMock(moduleName: string, exports: unknown): unknown;
}
declare const jest: JestModules | undefined;

const SLUICE_FILES = path.resolve(__dirname, '..') + path.sep;
const NODE_MODULES = `${path.sep}node_modules${path.sep}`;
const isShared = (file: string) => file.includes(NODE_MODULES) || file.startsWith(SLUICE_FILES);

let runs = 0;

export async function loadFresh(modulePath: string): Promise<StageDefinition> {
  // An ESM stage (.mjs, or a `"type": "module"` project) is imported with a new query: Node
  // evaluates that URL as a module of its own.
  const importQuery = `sluice-fresh=${++runs}`;
  const jestApi = jestModules();
  if (jestApi?.isolateModulesAsync) return loadInJestIsolation(jestApi, modulePath, importQuery);
  return loadUncached(modulePath, importQuery);
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

/** Under Node, the stage module and the files it loaded first are dropped from the CommonJS cache again. */
async function loadUncached(modulePath: string, importQuery: string): Promise<StageDefinition> {
  let resolved: string | undefined;
  try {
    resolved = require.resolve(modulePath);
  } catch {
    // not resolvable: loadStageDefinition reports it with the module's path
  }
  if (resolved !== undefined) {
    delete require.cache[resolved];
    // A module system whose cache refuses the eviction would hand back the old instance: say so.
    if (resolved in require.cache) throw new Error(`cannot load a fresh instance of ${modulePath}: this module system keeps it cached (a test runner's own registry?); run the stage in thread or process mode instead`);
  }
  const before = new Set(Object.keys(require.cache));
  try {
    return await loadStageDefinition(modulePath, { importQuery });
  } finally {
    for (const file of Object.keys(require.cache)) if (!before.has(file) && !isShared(file)) delete require.cache[file];
  }
}
