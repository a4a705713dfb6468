// Part of `npm run build`: sluice's own apache-arrow as one CommonJS file,
// dist/vendor/apache-arrow.cjs, which every thread and process of a built sluice command
// loads in place of the package's files (src/arrow-bundle.ts installs the redirect).
//
// Why: the package's CommonJS build is ~150 files (Arrow.node.js requires 146 of them), and
// every thread and process that touches a batch loads it: measured 0.17 CPU-s over a bare
// `node` against 0.07 for one file, in the CLI, each thread copy, each process copy.
//
// Unlike zod, apache-arrow reaches users' code (a stage builds batches with it), so the one
// file must be the same module for everyone in the process: it holds every .js file of the
// package (not only those the index needs), each evaluated on first use, keyed by its path in
// the package, and the redirect hands out the same object to sluice and to a stage that
// requires `apache-arrow` or any `apache-arrow/<file>` that resolves into this copy.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Paths (relative, no `.js`) of the package's CommonJS files: not the minified browser bundles, not the bin scripts. */
export function arrowModules(dir) {
  const out = [];
  const walk = (rel) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const file = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (file !== 'bin' && entry.name !== 'node_modules') walk(file);
      } else if (file.endsWith('.js') && !file.endsWith('.min.js')) out.push(file.slice(0, -3));
    }
  };
  walk('');
  return out.sort();
}

/** Bundles sluice's apache-arrow into `outfile` (CommonJS). */
export async function bundleArrow(outfile) {
  // esbuild comes with tsx (a dependency of sluice's): the one tsx uses, wherever npm put it.
  const esbuild = createRequire(require.resolve('tsx/package.json'))('esbuild');
  // The package's exports hide its files and package.json: found from its main entry.
  const dir = path.dirname(require.resolve('apache-arrow'));
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const modules = arrowModules(dir);
  // A getter per file: esbuild wraps each CommonJS module, which runs on its first require.
  const contents = [
    'const modules = {};',
    ...modules.map((m) => `Object.defineProperty(modules, ${JSON.stringify(m)}, { enumerable: true, get: () => require(${JSON.stringify(`./${m}.js`)}) });`),
    `module.exports = { version: ${JSON.stringify(version)}, modules };`,
  ].join('\n');
  await esbuild.build({
    stdin: { contents, resolveDir: dir, sourcefile: 'sluice-apache-arrow.cjs', loader: 'js' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  // Beside it, the version it was built from: an installed sluice whose apache-arrow resolves
  // to another version (a range in package.json) uses the package as it is (src/arrow-bundle.ts).
  writeFileSync(outfile.replace(/\.cjs$/, '.json'), JSON.stringify({ version }) + '\n');
}
