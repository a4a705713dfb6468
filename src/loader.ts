/**
 * sluice's own code runs as TypeScript from `src/` (tests; the repo when `dist/` is stale) or as
 * built JavaScript from `dist/` (the package, and the repo after `npm run build`). The TS loader
 * costs CPU in every thread and child it starts in (measured: tsx's require hook ~50 ms, its ESM
 * hooks ~230 ms more), so built code starts it only where a user's TypeScript is loaded, and
 * the ESM half only where an ES module needs it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerPastOwnJs, registerPastOwnJsAsync } from './own-js';

/** tsx (require hook + ESM hooks) and the `sluice` alias: what sluice's own TypeScript needs. */
export const REGISTER_FILE = path.join(__dirname, 'register.mjs');
/** tsx's require hook and the `sluice` alias only. */
const REGISTER_CJS = path.join(__dirname, 'register.cjs');
/** `.ts` when sluice runs from source, `.js` when built: the extension of sibling entry files. */
export const OWN_EXT = path.extname(__filename);
const FROM_SOURCE = OWN_EXT !== '.js';

/** A file that needs the TS loader to load. */
export function isTypeScript(file: string): boolean {
  return /\.[cm]?tsx?$/.test(file);
}

/**
 * `execArgv` for a worker thread or child process: the whole TS loader when sluice itself is
 * TypeScript, else nothing. A user's TypeScript stage registers the loader itself, right
 * before it is loaded (ensureLoaderFor, from worker/load.ts): registered at the thread's
 * start, tsx's hook would see (hash, look up, map) every file of apache-arrow and the engine
 * the thread loads first, measured at 50-100 ms of CPU in each thread and child.
 */
export function loaderExecArgv(): string[] {
  return FROM_SOURCE ? ['--import', pathToFileURL(REGISTER_FILE).href] : [];
}

/**
 * Test-only: SLUICE_TEST_BUILT_COPIES=<a current build of this src/> (set by jest.config.js
 * when dist/ is the build of src/ as it is) starts a run's threads and children from that
 * build while the run itself is sluice's TypeScript (an in-process run under jest). Measured,
 * a copy from src/ costs the TS loader and the compile of the engine in every thread (~0.55
 * CPU-s, built ~0.25) and child (~1.5 CPU-s, built ~0.6); the code is the same, as the build
 * is current (bin/sluice.js picks dist/ on the same condition). Never set outside tests.
 */
const BUILT_COPIES = FROM_SOURCE ? process.env.SLUICE_TEST_BUILT_COPIES || undefined : undefined;

/** The file a thread or child copy starts at: `entry` (a file of this tree), or its twin in the build (SLUICE_TEST_BUILT_COPIES). */
export function copyEntry(entry: string): string {
  if (!BUILT_COPIES) return entry;
  return path.join(BUILT_COPIES, path.relative(__dirname, entry)).replace(/\.ts$/, '.js');
}

/** `execArgv` for a copy started at copyEntry(…): a built copy registers the loader itself, only for a TypeScript stage. */
export function copyExecArgv(): string[] {
  return BUILT_COPIES ? [] : loaderExecArgv();
}

let esmLoader: Promise<unknown> | undefined;

/**
 * Register the TS loader in this thread before `file` is loaded, if it is TypeScript: its
 * require hook for `require(file)`, all of it for `import(file)` (`esm`). From source the
 * loader is already there: whoever started the process registered it (bin/, `--import`, or
 * jest's own transform, under which importing it would fail).
 */
export async function ensureLoaderFor(file: string, how: { esm: boolean; evenForJavaScript?: boolean }): Promise<void> {
  if (FROM_SOURCE || !(isTypeScript(file) || how.evenForJavaScript)) return;
  // Past the hook, sluice's own CommonJS still loads with Node's loader (own-js.ts).
  if (how.esm) await (esmLoader ??= registerPastOwnJsAsync(() => import(pathToFileURL(REGISTER_FILE).href)));
  // The whole loader includes the require hook; `require` caches register.cjs, so once.
  else if (!esmLoader) withoutEsbuildThread(() => registerPastOwnJs(() => require(REGISTER_CJS))); // eslint-disable-line @typescript-eslint/no-require-imports -- a side-effect hook
}

/**
 * Runs `load` (which loads tsx's require hook, and esbuild with it) with esbuild told not to
 * start its worker thread. On a file tsx has not transformed before (every new or edited
 * config or stage), esbuild's synchronous transform otherwise starts a worker thread that
 * starts its binary: measured 0.07 CPU-s more per command than running the binary directly,
 * which it does without the thread. esbuild reads the variable once, when it is loaded, so it
 * is set only while `load` runs (synchronously: nothing else can see it) and then put back.
 */
function withoutEsbuildThread(load: () => void): void {
  const before = process.env.ESBUILD_WORKER_THREADS;
  process.env.ESBUILD_WORKER_THREADS = '0';
  try {
    load();
  } finally {
    if (before === undefined) delete process.env.ESBUILD_WORKER_THREADS;
    else process.env.ESBUILD_WORKER_THREADS = before;
  }
}

interface Loading {
  what: string;
  /** 'loading', or 'being checked' for a call. */
  during: string;
  /** The load returned: a timer it set that exits later finds no one to throw to (the CLI's last resort speaks then). */
  over?: boolean;
  /** `process.exit(<code>)` as called by the module, if it did (even when it caught the throw). */
  called?: string;
}
const loading = new AsyncLocalStorage<Loading>();
let guarded = 0;
let realExit: typeof process.exit | undefined;
let patchedExit: typeof process.exit | undefined;

/**
 * Load user code (a config, a stage module) with `load`, so that a `process.exit()` it calls
 * while loading (its own top-level code, a helper it imports, a config function) cannot end
 * the process with the module's code: a config exiting 0 would make `sluice validate` and
 * `run` exit 0 having checked and run nothing. Inside the load the call throws an Error
 * naming `what`; a module that catches that throw is reported all the same. A call from
 * anywhere else (a second Ctrl-C while a module loads) exits as usual. Loads may overlap:
 * process.exit is patched while any is running, and given back after the last.
 */
export async function loadWithoutExit<T>(what: string, load: () => Promise<T> | T): Promise<T> {
  const state = enterLoad(what, 'loading');
  try {
    const value = await loading.run(state, load);
    if (state.called) throw new Error(exitMessage(state));
    return value;
  } finally {
    state.over = true;
    leaveLoad();
  }
}

/** loadWithoutExit for a synchronous call of user code (a stage's reads() or outputColumns() while checking). */
export function callWithoutExit<T>(what: string, fn: () => T): T {
  const state = enterLoad(what, 'being checked');
  try {
    const value = loading.run(state, fn);
    if (state.called) throw new Error(exitMessage(state));
    return value;
  } finally {
    state.over = true;
    leaveLoad();
  }
}

function enterLoad(what: string, during: string): Loading {
  if (guarded++ === 0) {
    const original = (realExit = process.exit);
    patchedExit = ((code?: number | string | null) => {
      const current = loading.getStore();
      if (!current || current.over) return original.call(process, code);
      current.called = `process.exit(${code ?? ''})`;
      throw new Error(exitMessage(current));
    }) as typeof process.exit;
    process.exit = patchedExit;
  }
  return { what, during };
}

function leaveLoad(): void {
  // Given back only if nothing patched it on top meanwhile (that one restores to ours, which passes calls through).
  if (--guarded === 0 && process.exit === patchedExit && realExit) process.exit = realExit;
}

const exitMessage = (l: Loading) =>
  `${l.what} called ${l.called} while ${l.during}; code sluice loads or checks must not end the process (it would exit with that code having run nothing): throw an Error to fail instead`;
