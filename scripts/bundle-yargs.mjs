// Part of `npm run build`: yargs (ES modules only since v18) bundled with its dependencies
// into one CommonJS file, dist/vendor/yargs.cjs, which the built CLI loads (src/cli/yargs.ts).
//
// Why: every `sluice` command parses its arguments with yargs, and on Node 20 `require()` of
// an ES module graph goes through the ESM loader, which compiled and linked yargs' ~30 files
// in ~0.1 s of CPU per command (measured with --cpu-prof). One CommonJS file loads in a
// fraction of that.
//
// One substitution: `string-width`, which yargs' help layout (cliui, wrap-ansi) calls for every
// line of help. yargs renders the whole help text whenever a command runs (it caches it in
// case the command fails), and on any text that is not plain ASCII string-width segments it
// into graphemes and tests each against Unicode property regexes that take tens of ms to
// compile: ~0.1 s of CPU per `sluice run`, because sluice's help quotes with ’. The stand-in
// gives the same widths: plain ASCII and the few typographic characters sluice's help uses
// (NARROW below: one column each, as string-width itself says; a test holds it) are counted
// directly, anything else goes to the real string-width, loaded on first use.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Characters counted one column each without asking string-width: printable ASCII and the
 * typographic characters in sluice's help (‘ ’ “ ” – — … →). East Asian "ambiguous" ones among
 * them are wide only with `ambiguousIsNarrow: false`, which the stand-in leaves to string-width.
 */
export const NARROW_SOURCE = '^[\\x20-\\x7E\\u2018\\u2019\\u201C\\u201D\\u2013\\u2014\\u2026\\u2192]*$';

/** The stand-in for the string-width at `exactPath` (each importer keeps the version it resolves). */
const standIn = (exactPath) => `
const NARROW = new RegExp(${JSON.stringify(NARROW_SOURCE)});
let exact;
module.exports = function stringWidth(input, options) {
  if (typeof input === 'string' && (options === undefined || (options.ambiguousIsNarrow !== false && !options.countAnsiEscapeCodes)) && NARROW.test(input)) return input.length;
  exact ??= require(${JSON.stringify(exactPath)}).default;
  return exact(input, options);
};
module.exports.default = module.exports;
`;

/** Bundles yargs into `outfile` (CommonJS). */
export async function bundleYargs(outfile) {
  // esbuild comes with tsx (a dependency of sluice's): the one tsx uses, wherever npm put it.
  const esbuild = createRequire(require.resolve('tsx/package.json'))('esbuild');
  const yargsDir = path.dirname(require.resolve('yargs/package.json'));
  await esbuild.build({
    entryPoints: [path.join(yargsDir, 'index.mjs')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    // yargs' ESM shim finds its locales (y18n, for LANG=de etc.) relative to its own file, and
    // `import.meta.resolve` serves `.config({ extends })`: both answered for the yargs that
    // is installed beside sluice, so they find what the unbundled yargs finds.
    define: { 'import.meta': '__yargsImportMeta' },
    banner: {
      js: [
        "const __yargsShim = require('node:path').join(require('node:path').dirname(require.resolve('yargs/package.json')), 'lib', 'platform-shims', 'esm.mjs');",
        "const __yargsImportMeta = { url: require('node:url').pathToFileURL(__yargsShim).href, resolve: (s) => require('node:url').pathToFileURL(require('node:module').createRequire(__yargsShim).resolve(s)).href };",
      ].join('\n'),
    },
    plugins: [
      {
        name: 'string-width-stand-in',
        setup(build) {
          build.onResolve({ filter: /^string-width$/ }, (args) => {
            return { path: createRequire(args.importer).resolve('string-width'), namespace: 'stand-in' };
          });
          build.onLoad({ filter: /.*/, namespace: 'stand-in' }, (args) => ({ contents: standIn(args.path), loader: 'js', resolveDir: path.dirname(args.path) }));
        },
      },
    ],
  });
}
