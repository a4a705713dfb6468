/**
 * Loading a stage module and checking its default export is a stage. One loader for every
 * place a stage is loaded (each copy in every mode, and the checks of `validate` / `run`
 * before anything starts), so they can never disagree about what a module exports.
 */
import { pathToFileURL } from 'node:url';
import { isError } from '../errors';
import { ensureLoaderFor, loadWithoutExit } from '../loader';

/** For the checks (check/ may not import the loader): a stage's own functions called while checking, guarded as its module's load. */
export { callWithoutExit } from '../loader';
import type { StageDefinition } from './api';

const HOW = 'write `export default defineStage({ process(batch, ctx) { … } })`';

/**
 * Load a stage module and return its definition; throws an Error saying what is wrong.
 * `importQuery` (e.g. `sluice-run=3`) is appended to the URL when the module is imported as ESM,
 * which Node evaluates again as a new module instance (a fresh instance: worker/fresh.ts).
 */
export async function loadStageDefinition(modulePath: string, opts: { importQuery?: string } = {}): Promise<StageDefinition> {
  let mod: unknown;
  try {
    // A module that calls process.exit while loading fails its load, in every place it loads.
    mod = await loadWithoutExit(`the stage module ${modulePath}`, () => loadModule(modulePath, opts.importQuery));
  } catch (err) {
    throw new Error(`cannot load ${modulePath}: ${oneLine(err)}`, { cause: err });
  }
  return pickDefinition(mod, modulePath);
}

/**
 * `require` first: tsx's CommonJS hook is active in every thread that registered it, while
 * its ESM hooks are not visible inside worker threads on Node 20. ESM-only modules (a
 * `"type": "module"` project) fall back to `import()`; `.mjs` files go there directly.
 */
async function loadModule(modulePath: string, importQuery?: string): Promise<unknown> {
  const url = pathToFileURL(modulePath);
  if (importQuery) url.search = importQuery;
  // An .mjs file is ESM by definition (it may use top-level await, which tsx's CommonJS
  // transform refuses): Node imports it natively, no loader hook needed; a fresh instance
  // needs sluice's resolve hook (alias-hooks.mjs), which gives the files it imports the same query.
  if (modulePath.endsWith('.mjs')) {
    if (importQuery) await ensureLoaderFor(modulePath, { esm: true, evenForJavaScript: true });
    return importFresh(modulePath, url.href, importQuery);
  }
  try {
    await ensureLoaderFor(modulePath, { esm: false });
    const first = !importQuery && !isCached(modulePath);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- require first: see above
    const mod: unknown = require(modulePath);
    if (first) ours.add(modulePath);
    return mod;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw err;
    await ensureLoaderFor(modulePath, { esm: true });
    return importFresh(modulePath, url.href, importQuery);
  }
}

/** Fresh ES-module instances per stage module in this process (worker/fresh.ts): Node never frees one. */
const esmInstances = new Map<string, number>();
/** How many a process makes of one module before it is told (once) what they cost. */
export const ESM_INSTANCES_WARNED_AT = 100;

/**
 * `import(href)`; a fresh instance (`importQuery`) is counted, and the 100th of one module says
 * so (a process warning, once): each keeps its code and whatever its module scope still holds
 * for the life of the process, which in a process running run after run (a cluster worker)
 * grows without bound. A TypeScript or CommonJS stage, or thread/process mode, has no such cost.
 */
async function importFresh(modulePath: string, href: string, importQuery: string | undefined): Promise<unknown> {
  const mod: unknown = await import(href);
  if (importQuery) {
    const n = (esmInstances.get(modulePath) ?? 0) + 1;
    esmInstances.set(modulePath, n);
    if (n === ESM_INSTANCES_WARNED_AT) {
      process.emitWarning(
        `the stage module ${modulePath} is an ES module run inline, loaded afresh for each copy of each run: this process now keeps ${n} instances of it (Node never frees an ES module, nor what its module scope holds). In a process that runs many runs, run the stage in thread or process mode, or write it as TypeScript or CommonJS, whose instances are freed after their run`,
        { code: 'SLUICE_ESM_INSTANCES' },
      );
    }
  }
  return mod;
}

/** Stage modules whose cached (CommonJS) instance sluice loaded first: no module of the user's had required it. */
const ours = new Set<string>();

function isCached(modulePath: string): boolean {
  try {
    return require.resolve(modulePath) in require.cache;
  } catch {
    return false; // not resolvable: the require reports it
  }
}

/**
 * Whether the cached instance of `modulePath` is one sluice itself loaded (the checks, a copy):
 * no one else holds it, so one copy may take it as its own (worker/fresh.ts copyInstance).
 */
export function loadedByUs(modulePath: string): boolean {
  return ours.has(modulePath) && isCached(modulePath);
}

/**
 * Forgets a module this file required (Node lists every module a module required among its
 * `children`, for ever): a fresh instance of a stage, once out of the cache, is then collected
 * when its run ends (worker/fresh.ts).
 */
export function releaseLoaded(mod: NodeModule | undefined): void {
  const i = mod ? module.children.indexOf(mod) : -1;
  if (i >= 0) module.children.splice(i, 1);
}

const isObjectLike = (v: unknown): v is Record<string, unknown> => (typeof v === 'object' || typeof v === 'function') && v !== null;

/** Accepts `export default defineStage(...)` from ESM or CJS (tsx may wrap it once more). */
export function pickDefinition(mod: unknown, modulePath: string): StageDefinition {
  let candidate: unknown = mod;
  let hasDefault = false;
  for (let i = 0; i < 3 && isObjectLike(candidate); i++) {
    if (typeof candidate.process === 'function') return checkShape(candidate, modulePath);
    if (!('default' in candidate) || candidate.default === undefined) break;
    hasDefault = true;
    candidate = candidate.default;
  }
  if (!hasDefault) throw new Error(`${modulePath} has no default export; ${HOW}`);
  throw new Error(`the default export of ${modulePath} is not a stage: it has no process() function (got ${describe(candidate)}); ${HOW}`);
}

function checkShape(definition: Record<string, unknown>, modulePath: string): StageDefinition {
  for (const hook of ['setup', 'flush', 'combine'] as const) {
    const v = definition[hook];
    if (v !== undefined && typeof v !== 'function') throw new Error(`the default export of ${modulePath}: ${hook} must be a function, got ${describe(v)}`);
  }
  if (definition.combine !== undefined && typeof definition.flush !== 'function') {
    throw new Error(`the default export of ${modulePath}: combine() merges what each copy's flush() returns, and it has no flush()`);
  }
  for (const flag of ['perCopyFlush', 'keepsColumns', 'vectorised'] as const) {
    const v = definition[flag];
    if (v !== undefined && typeof v !== 'boolean') throw new Error(`the default export of ${modulePath}: ${flag} must be true or false, got ${describe(v)}`);
  }
  for (const fn of ['inputColumns', 'outputColumns', 'reads'] as const) {
    const v = definition[fn];
    if (v !== undefined && typeof v !== 'function') throw new Error(`the default export of ${modulePath}: ${fn} must be a function, got ${describe(v)}`);
  }
  return definition as unknown as StageDefinition;
}

function describe(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? String(v);
  const keys = Object.keys(v);
  return keys.length ? `an object with ${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}` : 'an empty object';
}

/**
 * The message on one line, without Node's require stack: a compile error's first line only
 * says "Transform failed with 1 error:", the position and cause follow it.
 */
function oneLine(err: unknown): string {
  const message = isError(err) ? err.message : String(err);
  const lines = message.split('\n').map((l) => l.trim());
  const end = lines.findIndex((l) => l.startsWith('Require stack:'));
  return (end < 0 ? lines : lines.slice(0, end)).filter(Boolean).slice(0, 3).join(' ');
}
