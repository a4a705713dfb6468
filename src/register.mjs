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

// `sluice` and `sluice/testing` (which a stage test or a `pipeline.cases.ts` imports).
const file = (name) => fileURLToPath(new URL(name, import.meta.url));
const entries = { sluice: file('./index.ts'), 'sluice/testing': file('./testing/index.ts') };
const esmEntries = { sluice: file('./index.mjs'), 'sluice/testing': file('./testing/index.mjs') };
register('./alias-hooks.mjs', import.meta.url, { data: { entries: esmEntries, root: file('./') } });

// CommonJS configs (a package without "type": "module") resolve through Module._resolveFilename.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (Object.hasOwn(entries, request)) return entries[request];
  return resolveFilename.call(this, request, ...rest);
};
