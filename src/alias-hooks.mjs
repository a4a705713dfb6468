// ESM resolve hook for `import ... from 'sluice'` and `'sluice/testing'` (see register.mjs),
// and for the files a fresh instance of a stage imports (worker/fresh.ts).
import { pathToFileURL } from 'node:url';

let entryUrls = {};
let ownRoot = '';
export function initialize(data) {
  entryUrls = Object.fromEntries(Object.entries(data.entries).map(([name, file]) => [name, pathToFileURL(file).href]));
  ownRoot = data.root ? pathToFileURL(data.root).href : '';
}

/** The query worker/fresh.ts puts on a fresh instance's URL (`?sluice-run=<n>`). */
const FRESH = /[?&](sluice-run=\d+)/;

export async function resolve(specifier, context, next) {
  // Delegate so tsx's own resolve marks the .ts entry for its loader.
  const resolved = await next(Object.hasOwn(entryUrls, specifier) ? entryUrls[specifier] : specifier, context);
  // A file of the user's that a fresh stage instance imports is evaluated anew with it, as
  // CommonJS files are (Node keys ES modules by URL): packages and sluice itself stay shared.
  const run = context.parentURL ? FRESH.exec(context.parentURL) : null;
  const url = resolved.url;
  if (run && url.startsWith('file:') && !url.includes('?') && !url.includes('/node_modules/') && !(ownRoot && url.startsWith(ownRoot))) {
    return { ...resolved, url: `${url}?${run[1]}` };
  }
  return resolved;
}
