/**
 * Loading a TypeScript config without a build step. The TS loader is registered by
 * sluice's absolute path (by bin/sluice.js when sluice runs from source, here on first use
 * when it runs built), so `import()` of a `.ts` file works from any working directory.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigLoadError } from '../errors';
import { ensureLoaderFor } from '../loader';

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
  try {
    await ensureLoaderFor(abs, { esm: true });
    mod = await import(pathToFileURL(abs).href);
  } catch (err) {
    throw new ConfigLoadError(abs, err);
  }
  let raw = unwrapDefault(mod);
  if (typeof raw === 'function') {
    try {
      raw = await (raw as () => unknown)();
    } catch (err) {
      throw new ConfigLoadError(abs, err);
    }
  }
  if (raw === undefined || raw === null) {
    throw new ConfigLoadError(abs, new Error('it has no default export; write `export default definePipeline({ … })`'));
  }
  return { raw, file: abs, baseDir: path.dirname(abs) };
}

/** ESM gives `{ default }`; a CJS module compiled by tsx may wrap it once more. */
function unwrapDefault(mod: unknown): unknown {
  let v = mod;
  for (let i = 0; i < 2; i++) {
    if (v && typeof v === 'object' && 'default' in v && !('source' in v)) v = (v as { default: unknown }).default;
  }
  return v;
}
