// ESM resolve hook for `import ... from 'sluice'` and `'sluice/testing'` (see register.mjs).
import { pathToFileURL } from 'node:url';

let entryUrls = {};
export function initialize(data) {
  entryUrls = Object.fromEntries(Object.entries(data.entries).map(([name, file]) => [name, pathToFileURL(file).href]));
}
export function resolve(specifier, context, next) {
  // Delegate so tsx's own resolve marks the .ts entry for its loader.
  if (Object.hasOwn(entryUrls, specifier)) return next(entryUrls[specifier], context);
  return next(specifier, context);
}
