// Ownership bugs fail loudly under test: a lease released twice throws (src/batch/shared.ts).
// Set here, so jest's workers, the threads and the CLIs the tests start all inherit it.
process.env.SLUICE_STRICT_LEASES = '1';
// In-process runs (runPlan under jest) start their threads and children from dist/ when it is
// the build of src/ as it is (`npm test` builds it first): the same code, without the TS loader
// and the engine's compile in every copy (src/loader.ts copyEntry). A stale dist/ (src/ edited
// since: `npx jest` alone) leaves the copies on src/.
if (process.env.SLUICE_FROM_SOURCE !== '1' && require('./test/helpers/built.cjs').builtIsCurrent()) process.env.SLUICE_TEST_BUILT_COPIES = require('node:path').join(__dirname, 'dist');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // .ts before .mjs: src/index.mjs is the ESM face for Node, tests import the TypeScript.
  moduleFileExtensions: ['ts', 'js', 'cjs', 'mjs', 'json', 'node'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
    // hyparquet (an independent Parquet decoder for tests) ships ES modules only.
    '/node_modules/hyparquet/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // `sluice` (a fixture stage's import) is the source under test, not the built dist/ the
  // package's exports name.
  moduleNameMapper: { '^sluice$': '<rootDir>/src/index.ts', '^sluice/testing$': '<rootDir>/src/testing/index.ts' },
  transformIgnorePatterns: ['/node_modules/(?!hyparquet/)'],
  // e2e tests spawn the CLI and worker pools; keep the 2-core machine from oversubscribing.
  maxWorkers: 2,
  // The slowest files first, also on a clean clone with no timings cached (test/sequencer.cjs).
  testSequencer: '<rootDir>/test/sequencer.cjs',
  // A temporary directory of the suite's own (TMPDIR), removed at the end: see the file for why.
  globalSetup: '<rootDir>/test/global-setup.cjs',
  globalTeardown: '<rootDir>/test/global-teardown.cjs',
  testTimeout: 60_000,
  // ...stretched with the machine's load (a guard against hangs, not a speed limit).
  setupFilesAfterEnv: ['<rootDir>/test/scaled-timeouts.cjs', '<rootDir>/test/cpu-ledger.cjs'],
};
