/**
 * The `--import` a test's child process (a user's script, run as `node --import sluice/register
 * script.ts`) starts with: sluice/register from dist/ when dist/ is the build of src/ as it is
 * (`npm test` builds it first), else from src/. The same code either way; from src/ every such
 * child also compiles the engine through the TS loader (~1.5 CPU-s more a child), as the
 * threads and children of in-process runs would (jest.config.js: SLUICE_TEST_BUILT_COPIES).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './cli';
import { builtIsCurrent } from './package';

/** `['--import', <register.mjs URL>]`, from dist/ when it is current. */
export function registerForChild(): string[] {
  const register = path.join(REPO, builtIsCurrent() ? 'dist' : 'src', 'register.mjs');
  return ['--import', pathToFileURL(register).href];
}
