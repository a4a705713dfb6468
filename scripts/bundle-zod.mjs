// Part of `npm run build`: zod bundled into one CommonJS file, dist/vendor/zod.cjs, which the
// built config checks load (src/config/zod.ts).
//
// Why: `validate`, `run` and `test` load zod to check the config, and the package is ~110
// files (its CommonJS build, with every one of its ~50 message locales, which zod loads
// eagerly): measured 0.11 CPU-s over a bare `node`. One file, with English only, takes
// about half that. sluice's messages use zod's English ones and never switch locale
// (`z.locales` holds `en` only in the bundle); nothing of zod reaches users' code.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Bundles zod into `outfile` (CommonJS). */
export async function bundleZod(outfile) {
  // esbuild comes with tsx (a dependency of sluice's): the one tsx uses, wherever npm put it.
  const esbuild = createRequire(require.resolve('tsx/package.json'))('esbuild');
  const zodDir = path.dirname(require.resolve('zod/package.json'));
  await esbuild.build({
    // zod's ES module build: esbuild links it as one scope.
    entryPoints: [path.join(zodDir, 'index.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    plugins: [
      {
        name: 'english-only',
        setup(build) {
          build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => ({ path: args.path, namespace: 'english-only' }));
          build.onLoad({ filter: /.*/, namespace: 'english-only' }, () => ({ contents: "export { default as en } from './en.js';", resolveDir: path.join(zodDir, 'v4', 'locales') }));
        },
      },
    ],
  });
}
