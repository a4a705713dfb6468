/**
 * Built sluice loads its own apache-arrow from one file, dist/vendor/apache-arrow.cjs
 * (scripts/bundle-arrow.mjs: every .js file of the package, ~0.1 CPU-s less per thread and
 * process than the package's ~150 files). Imported first by each entry sluice starts (the
 * CLI, a stage thread or child, the source thread), so that everything the thread or process
 * then requires, sluice's code and the user's stages alike, gets that one copy: a
 * `require('apache-arrow')` or `require('apache-arrow/<file>')` that resolves into sluice's
 * own package gets the bundle's module for that file, the same object for everyone. A stage
 * that resolves to another copy of apache-arrow (its project's own) keeps it, as before; ES
 * modules (`import` from an .mjs) are not touched (they load the package's .mjs build).
 * From source (no bundle beside src/), under jest, and where sluice's apache-arrow is not the
 * version the bundle was built from (dist/vendor/apache-arrow.json), nothing changes.
 *
 * An embedded run (`run()` from sluice's index) does not install it in the user's process:
 * the user may hold the package's own copy already, and it must stay the one their code sees.
 */
import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';

const BUNDLE = path.join(__dirname, 'vendor', 'apache-arrow.cjs');
/** `{ version }`: the apache-arrow the bundle was built from. */
const BUILT_FROM = path.join(__dirname, 'vendor', 'apache-arrow.json');

type Loader = {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
  _resolveFilename(request: string, parent: unknown, isMain: boolean): string;
};

let installed = false;

/** Installs the redirect in this thread (once); false where there is no bundle. */
export function useBundledArrow(): boolean {
  if (installed) return true;
  if (!existsSync(BUNDLE)) return false;
  /* eslint-disable @typescript-eslint/no-require-imports -- the bundle is chosen at run time */
  const own = path.dirname(require.resolve('apache-arrow')) + path.sep;
  // An installed sluice may resolve another apache-arrow than it was built with: then that one, as it is.
  const version = (file: string) => {
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    } catch {
      return undefined;
    }
  };
  const built = version(BUILT_FROM);
  if (built === undefined || built !== version(path.join(own, 'package.json'))) return false;
  installed = true;
  let bundle: { modules: Record<string, unknown> } | undefined;
  const loader = Module as unknown as Loader;
  const load = loader._load;
  loader._load = function (this: unknown, request: string, parent: unknown, isMain: boolean) {
    if (typeof request === 'string' && (request === 'apache-arrow' || request.startsWith('apache-arrow/'))) {
      let file: string | undefined;
      try {
        file = loader._resolveFilename(request, parent, isMain);
      } catch {
        // not resolvable from there: the original load says so
      }
      if (file?.startsWith(own) && file.endsWith('.js')) {
        const key = file.slice(own.length, -3).split(path.sep).join('/');
        bundle ??= require(BUNDLE) as { modules: Record<string, unknown> };
        if (Object.hasOwn(bundle.modules, key)) return bundle.modules[key];
      }
    }
    // eslint-disable-next-line prefer-rest-params -- the loader's own arguments, whatever they are
    return load.apply(this, arguments as unknown as [string, unknown, boolean]);
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return true;
}

useBundledArrow();
