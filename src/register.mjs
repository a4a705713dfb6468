// Makes TypeScript configs and stages load without a build step, in the main thread,
// in worker threads and in child processes (they start with `--import <this file>`, or
// import it on first use: see loader.ts). Published as `sluice/register`; in dist/ the
// build points the `./index.ts` below at `./index.js`.
// It is resolved by sluice's own absolute path, so `tsx` comes from sluice's node_modules,
// not from whatever the user's working directory would resolve.
//
// It also maps the bare specifier `sluice` to this very copy of the package, so a config
// written anywhere on disk (even outside a project that installs sluice) imports the
// same `definePipeline` / `defineStage` the running engine uses.
import 'tsx';
import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
const esmEntry = fileURLToPath(new URL('./index.mjs', import.meta.url));
register('./alias-hooks.mjs', import.meta.url, { data: { entry: esmEntry } });

// CommonJS configs (a package without "type": "module") resolve through Module._resolveFilename.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'sluice') return entry;
  return resolveFilename.call(this, request, ...rest);
};
