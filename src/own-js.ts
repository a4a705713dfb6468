/**
 * sluice's own JavaScript loaded past the TS loader. Once tsx's require hook is registered (for
 * a TypeScript config in the CLI, for a TypeScript stage in a copy), every `.js` file a thread
 * requires goes through it: tsx reads the file, scans it for ES-module syntax (to compile ESM
 * written as `.js`) and then compiles it as Node would have. What sluice loads after the config
 * or the stage module paid that: piscina and parts of the engine in the CLI, the CSV parser and
 * nodejs-polars in a thread copy that parses, nodejs-polars in a copy of a polars stage, pino
 * on a copy's first log line. Measured: nodejs-polars and the CSV parser cost 0.1 CPU-s more
 * required after the hook than before it; a 1-row run with a thread copy 0.95x of its CPU.
 *
 * Files of sluice's own build and of the CommonJS packages it loads itself are known to be
 * CommonJS, so they skip the scan and load with Node's own loader; everything else (the
 * user's code and packages) still goes through tsx, as before.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';

type JsLoader = (module: NodeModule, filename: string) => void;
type Extensions = Record<string, JsLoader>;

/** Packages sluice requires itself after the loader may be registered, all CommonJS; pino with the packages it requires. */
const OWN_PACKAGES = ['nodejs-polars', 'pino', 'piscina'];
const WITH_DEPENDENCIES = new Set(['pino']);

let prefixes: string[] | undefined;

/** Directories whose `.js` files are sluice's own CommonJS: its build (this file's folder) and OWN_PACKAGES. */
export function ownPrefixes(): string[] {
  return (prefixes ??= [__dirname + path.sep, ...OWN_PACKAGES.flatMap((name) => packageDirs(name, WITH_DEPENDENCIES.has(name)))]);
}

/** The folder of package `name` as sluice resolves it (`…/node_modules/<name>/`), and those of its dependencies. */
function packageDirs(name: string, withDependencies: boolean, from: string = __filename): string[] {
  const marker = `${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`;
  let dir: string;
  try {
    const entry = require.resolve(name, { paths: [path.dirname(from)] });
    const at = entry.lastIndexOf(marker);
    if (at < 0) return [];
    dir = entry.slice(0, at + marker.length);
  } catch {
    return []; // not resolvable from CommonJS: its files keep going through the loader
  }
  if (!withDependencies) return [dir];
  let deps: string[] = [];
  try {
    deps = Object.keys((JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
  } catch {
    // no manifest to read: the package alone
  }
  return [dir, ...deps.flatMap((d) => packageDirs(d, false, path.join(dir, 'package.json')))];
}

/** Whether `filename` is a file of sluice's own CommonJS (see ownPrefixes). */
export function isOwnJs(filename: string): boolean {
  if (!filename.endsWith('.js')) return false;
  for (const p of ownPrefixes()) {
    // A package nested inside one of them (…/pino/node_modules/x/) is not ours.
    if (filename.startsWith(p) && !filename.includes(`${path.sep}node_modules${path.sep}`, p.length - 1)) return true;
  }
  return false;
}

/**
 * Runs `register` (which installs the TS loader's require hook) so that `.js` files of sluice's
 * own CommonJS are loaded by the loader Node had before, the rest by the new one.
 */
export function registerPastOwnJs(register: () => void): void {
  const before = extensions()['.js'];
  register();
  passOwnJs(before);
}

/** registerPastOwnJs for a registration that completes asynchronously (an `import()`). */
export async function registerPastOwnJsAsync(register: () => Promise<unknown>): Promise<void> {
  const before = extensions()['.js'];
  await register();
  passOwnJs(before);
}

const extensions = () => (Module as unknown as { _extensions: Extensions })._extensions;

function passOwnJs(before: JsLoader | undefined): void {
  const all = extensions();
  const after = all['.js'];
  if (!before || !after || after === before) return; // nothing new was hooked (registered before)
  ownPrefixes(); // resolved now, not inside the first require the hook sees
  all['.js'] = function (this: unknown, module: NodeModule, filename: string) {
    return (isOwnJs(filename) ? before : after).call(this, module, filename);
  };
}
