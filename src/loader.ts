/**
 * sluice's own code runs as TypeScript from `src/` (tests; the repo when `dist/` is stale) or as
 * built JavaScript from `dist/` (the package, and the repo after `npm run build`). The TS loader
 * (tsx, `register.mjs`) costs ~0.25 s in every thread and child it starts in, so built code
 * starts it only where a user's TypeScript config or stage is loaded.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const REGISTER_FILE = path.join(__dirname, 'register.mjs');
/** `.ts` when sluice runs from source, `.js` when built: the extension of sibling entry files. */
export const OWN_EXT = path.extname(__filename);
const FROM_SOURCE = OWN_EXT !== '.js';

/** A file that needs the TS loader to load. */
export function isTypeScript(file: string): boolean {
  return /\.[cm]?tsx?$/.test(file);
}

/**
 * `execArgv` for a worker thread or child process: the TS loader when sluice itself is
 * TypeScript, or when the thread will load `userModule` and it is TypeScript.
 */
export function loaderExecArgv(userModule?: string): string[] {
  return FROM_SOURCE || (userModule !== undefined && isTypeScript(userModule)) ? ['--import', pathToFileURL(REGISTER_FILE).href] : [];
}

let registering: Promise<unknown> | undefined;

/**
 * Register the TS loader in this thread before `file` is loaded, if it is TypeScript (once).
 * From source the loader is already there: whoever started the process registered it (bin/,
 * `--import`, or jest's own transform, under which importing it would fail).
 */
export async function ensureLoaderFor(file: string): Promise<void> {
  if (FROM_SOURCE || !isTypeScript(file)) return;
  await (registering ??= import(pathToFileURL(REGISTER_FILE).href));
}
