/**
 * zod for the config checks. Built, the one CommonJS file the build bundles it into
 * (dist/vendor/zod.cjs: scripts/bundle-zod.mjs says why, ~0.06 s of CPU less per command);
 * from source (no such file beside src/), the package itself.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { z as Z } from 'zod';

const BUNDLED = path.join(__dirname, '..', 'vendor', 'zod.cjs');

/* eslint-disable @typescript-eslint/no-require-imports -- which file is chosen at run time */
export const z: typeof Z = (existsSync(BUNDLED) ? (require(BUNDLED) as typeof import('zod')) : (require('zod') as typeof import('zod'))).z;
/* eslint-enable @typescript-eslint/no-require-imports */
