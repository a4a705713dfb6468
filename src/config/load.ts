/**
 * Loading a TypeScript config without a build step. The TS loader is registered by
 * sluice's absolute path (by bin/sluice.js when sluice runs from source, here on first use
 * when it runs built), so `import()` of a `.ts` file works from any working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigLoadError } from '../errors';
import { ensureLoaderFor, loadWithoutExit } from '../loader';

export interface LoadedConfig {
  /** The default export, not yet validated. */
  raw: unknown;
  /** Absolute path of the config file. */
  file: string;
  /** Relative paths in the config resolve against this directory. */
  baseDir: string;
}

export async function loadConfigFile(file: string, cwd = process.cwd()): Promise<LoadedConfig> {
  const abs = path.resolve(cwd, file);
  if (!existsSync(abs)) throw new ConfigLoadError(abs, new Error(`file not found (looked for "${file}" from ${cwd})`));
  let mod: unknown;
  // Guarded as stage code is: a config (or a helper it imports) that calls process.exit
  // while loading fails the command naming the file, never exits 0 having checked nothing.
  const what = `the config ${abs}`;
  try {
    mod = await loadWithoutExit(what, () => importConfig(abs));
  } catch (err) {
    throw new ConfigLoadError(abs, err);
  }
  let raw = unwrapDefault(mod);
  if (typeof raw === 'function') {
    try {
      raw = await loadWithoutExit(`${what} (its default export function)`, () => (raw as () => unknown)());
    } catch (err) {
      throw new ConfigLoadError(abs, err);
    }
  }
  if (raw === undefined || raw === null) {
    throw new ConfigLoadError(abs, new Error('it has no default export; write `export default definePipeline({ … })`'));
  }
  return { raw, file: abs, baseDir: path.dirname(abs) };
}

/**
 * A CommonJS config (as tsx would run it anyway) loads through the TS loader's require hook
 * alone, which spares the main thread tsx's ESM hooks (a loader thread, ~0.23 s of CPU); an ES
 * module config through `import()`. A JavaScript config gets the loader too: it may import
 * `sluice` from outside any project, which the loader's alias resolves.
 */
async function importConfig(abs: string): Promise<unknown> {
  const esm = !isCommonJs(abs);
  await ensureLoaderFor(abs, { esm, evenForJavaScript: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  return esm ? import(pathToFileURL(abs).href) : require(abs);
}

/** Node's rule: `.cts`/`.cjs`, or `.ts`/`.js` whose nearest package.json has no `"type": "module"`. */
export function isCommonJs(file: string): boolean {
  if (/\.c[jt]s$/.test(file)) return true;
  if (!/\.[jt]s$/.test(file)) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type !== 'module';
      } catch {
        return false; // a broken package.json: import() reports it as Node would
      }
    }
    if (path.dirname(dir) === dir) return true;
  }
}

/** ESM gives `{ default }`; a CJS module compiled by tsx may wrap it once more. */
function unwrapDefault(mod: unknown): unknown {
  let v = mod;
  for (let i = 0; i < 2; i++) {
    if (v && typeof v === 'object' && 'default' in v && !('source' in v)) v = (v as { default: unknown }).default;
  }
  return v;
}
