// Lint, run by `npm test` after the type check and before jest: typescript-eslint's
// recommended rules, and the dependency direction of DESIGN.md as import-x zones built from
// lint/layers.cjs (the table test/unit/architecture.test.ts reads too).
// eslint-plugin-import-x rather than eslint-plugin-import: it is written for flat config and
// resolves TypeScript's extensionless specifiers with its own resolver, no extra package.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import layers from './lint/value-imports.mjs';
import { ALLOWED, INNER, PACKAGES } from './lint/layers.cjs';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

/** Every area under src/ (a folder, or a top-level file by its name) → the paths it covers. */
const AREAS = new Map();
for (const entry of readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })) {
  const name = entry.isDirectory() ? entry.name : entry.name.replace(/\.(ts|mjs|cjs)$/, '');
  if (!entry.isDirectory() && name === entry.name) continue;
  AREAS.set(name, [...(AREAS.get(name) ?? []), `./src/${entry.name}`]);
}
const pathsOf = (areas) => areas.flatMap((a) => AREAS.get(a) ?? []);

/** One zone per area: it may not import values from any area outside its ALLOWED list (cli apart). */
const valueZones = [...AREAS.keys()].flatMap((area) => {
  const allowed = ALLOWED[area] ?? [];
  const forbidden = [...AREAS.keys()].filter((other) => other !== area && other !== 'cli' && !allowed.includes(other));
  if (forbidden.length === 0) return [];
  const may = allowed.length ? allowed.join(', ') : 'nothing of ours';
  return [{ target: pathsOf([area]), from: pathsOf(forbidden), message: `${area}/ may import values only from: ${may} (DESIGN.md; table in lint/layers.cjs).` }];
});

/** Nothing imports cli/, not even a type; and the folders INNER keeps apart, types included. */
const everyImportZones = [
  { target: pathsOf([...AREAS.keys()].filter((a) => a !== 'cli')), from: './src/cli', message: 'nothing imports cli/ (DESIGN.md).' },
  ...INNER.map((z) => ({ target: `./src/${z.target}`, from: z.from.map((f) => `./src/${f}`), message: `${z.why} (lint/layers.cjs).` })),
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'bench/results/**', 'coverage/**', 'scratch/**', 'docs/.vitepress/dist/**', 'docs/.vitepress/cache/**', 'docs/public/api/**'] }, // with the docs site's build output
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `interface PipelineConfig extends z.input<…> {}` names a type derived from the schema.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    files: ['src/**/*.{ts,mjs,cjs}'],
    plugins: { 'import-x': importX, layers },
    settings: {
      // Specifiers are written without extension (`'../config/types'`); resolve them as tsc does.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mjs', '.cjs', '.js', '.json', '.node'] })],
    },
    rules: {
      'layers/no-restricted-value-imports': ['error', { basePath: ROOT, zones: valueZones }],
      'import-x/no-restricted-paths': ['error', { basePath: ROOT, zones: everyImportZones }],
      // The zones skip an import they cannot resolve, so every relative import must resolve.
      'import-x/no-unresolved': ['error', { commonjs: true, ignore: ['^[^.]'] }],
    },
  },
  // Packages one area alone may import (lint/layers.cjs PACKAGES; test/unit/architecture.test.ts checks require() too).
  ...PACKAGES.map((p) => ({
    files: ['src/**/*.{ts,mjs,cjs}'],
    ignores: [`src/${p.only}/**`],
    rules: { 'no-restricted-imports': ['error', { paths: p.names.map((name) => ({ name, message: `${p.why} (lint/layers.cjs).` })), patterns: p.names.map((name) => ({ group: [`${name}/*`], message: `${p.why} (lint/layers.cjs).` })) }] },
  })),
  {
    // Tests and benchmarks read JSON reports and rows of any shape.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // CommonJS entries and scripts load with require() by design.
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
