// ESM resolve hook for `import ... from 'sluice'` (see register.mjs).
import { pathToFileURL } from 'node:url';

let entryUrl;
export function initialize(data) {
  entryUrl = pathToFileURL(data.entry).href;
}
export function resolve(specifier, context, next) {
  // Delegate so tsx's own resolve marks the .ts entry for its loader.
  if (specifier === 'sluice') return next(entryUrl, context);
  return next(specifier, context);
}
