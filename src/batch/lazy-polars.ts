/**
 * nodejs-polars, loaded by the first call that uses it (~75 ms of CPU: 33 modules, the native
 * library, and its libc probe). The modules that parse or convert with polars are loaded by
 * every run's main thread, but many runs never call them there: a CSV parsed in a stage's
 * thread or child copy (`plan.parseIn`), or in the source thread; a stage copy that never
 * asks for a DataFrame. Those threads and processes then do not pay for polars at all.
 * Modules import polars' types with `import type` and its values through `polars()`.
 */
import type pl from 'nodejs-polars';

let polarsModule: typeof pl | undefined;

export function polars(): typeof pl {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see above
  return (polarsModule ??= (require('nodejs-polars') as { default: typeof pl }).default);
}
