/**
 * The `--import` a test's child process (a user's script, run as `node --import sluice/register
 * script.ts`) starts with: sluice/register from dist/ when dist/ is the build of src/ as it is
 * (`npm test` builds it first), else from src/. The same code either way; from src/ every such
 * child also compiles the engine through the TS loader (~1.5 CPU-s more a child), as the
 * threads and children of in-process runs would (jest.config.js: SLUICE_TEST_BUILT_COPIES).
 * SLUICE_FROM_SOURCE=1 keeps src/, as it does there.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './cli';
import { builtIsCurrent } from './package';

/** dist/ when it is the build of src/ as it is (and SLUICE_FROM_SOURCE is not 1), else src/. */
export function engineRoot(): string {
  return path.join(REPO, process.env.SLUICE_FROM_SOURCE !== '1' && builtIsCurrent() ? 'dist' : 'src');
}

/** `['--import', <register.mjs URL>]`, from engineRoot(). */
export function registerForChild(): string[] {
  return ['--import', pathToFileURL(path.join(engineRoot(), 'register.mjs')).href];
}
