/**
 * yargs for the CLI. Built, the one CommonJS file the build bundles it into
 * (dist/vendor/yargs.cjs: scripts/bundle-yargs.mjs says why, ~0.2 s of CPU less per command);
 * from source (no such file beside src/), the package itself.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type Yargs from 'yargs';

const BUNDLED = path.join(__dirname, '..', 'vendor', 'yargs.cjs');

/* eslint-disable @typescript-eslint/no-require-imports -- which file is chosen at run time */
export const yargs: typeof Yargs = existsSync(BUNDLED) ? (require(BUNDLED) as { default: typeof Yargs }).default : (require('yargs') as typeof Yargs);
/* eslint-enable @typescript-eslint/no-require-imports */
