/**
 * The lint rule that keeps imports one way (eslint.config.mjs, zones from lint/layers.cjs)
 * really refuses a wrong-way import: each case is linted as a file at a path inside src/
 * (the file need not exist; what it imports does), through ESLint with the repo's config.
 */
import { REPO, runNode } from '../helpers/cli';

interface Case {
  filePath: string;
  code: string;
}

async function lint(cases: Case[]): Promise<[string | null, string][][]> {
  const r = await runNode(['test/fixtures/scripts/lint-text.mjs', JSON.stringify(cases)], { cwd: REPO, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`lint-text failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const CASES = {
  workerToRuntime: { filePath: 'src/worker/probe.ts', code: "import { runPipeline } from '../runtime/run';\nexport const x = runPipeline;\n" },
  workerToRuntimeDynamic: { filePath: 'src/worker/probe.ts', code: "export const load = () => import('../runtime/run');\n" },
  workerToRuntimeRequire: { filePath: 'src/worker/probe.cjs', code: "module.exports = require('../runtime/run.ts');\n" },
  workerTypeFromPlan: { filePath: 'src/worker/probe.ts', code: "import type { Plan } from '../plan/types';\nexport type X = Plan;\n" },
  workerToBatch: { filePath: 'src/worker/probe.ts', code: "import { SlabArena } from '../batch/slab';\nexport const x = SlabArena;\n" },
  batchToErrors: { filePath: 'src/batch/probe.ts', code: "import { SluiceError } from '../errors';\nexport const x = SluiceError;\n" },
  batchToConfig: { filePath: 'src/batch/probe.ts', code: "import { validateConfig } from '../config';\nexport const x = validateConfig;\n" },
  sinkToSourceValue: { filePath: 'src/io/sinks/writers/probe.ts', code: "import { readCsv } from '../../sources/csv';\nexport const x = readCsv;\n" },
  sinkToSourceType: { filePath: 'src/io/sinks/probe.ts', code: "import type { SourceBatch } from '../sources';\nexport type X = SourceBatch;\n" },
  sinkToSharedCsv: { filePath: 'src/io/sinks/writers/probe.ts', code: "import { parseChunk } from '../../../csv/parse';\nexport const x = parseChunk;\n" },
  sharedCsvToSource: { filePath: 'src/csv/probe.ts', code: "import type { SourceBatch } from '../io/sources';\nexport type X = SourceBatch;\n" },
  typeFromCli: { filePath: 'src/runtime/probe.ts', code: "import type { main } from '../cli/main';\nexport type X = typeof main;\n" },
  unresolved: { filePath: 'src/runtime/probe.ts', code: "import { nothing } from '../plan/no-such-file';\nexport const x = nothing;\n" },
} satisfies Record<string, Case>;

let results: Record<keyof typeof CASES, [string | null, string][]>;

beforeAll(async () => {
  const names = Object.keys(CASES) as (keyof typeof CASES)[];
  const out = await lint(names.map((n) => CASES[n]));
  results = Object.fromEntries(names.map((n, i) => [n, out[i]])) as typeof results;
}, 120_000);

const rules = (name: keyof typeof CASES) => results[name].map(([rule]) => rule);

it('refuses a value import against the arrows, however it is written (import, import(), require)', () => {
  for (const name of ['workerToRuntime', 'workerToRuntimeDynamic', 'workerToRuntimeRequire', 'batchToConfig'] as const) {
    expect(rules(name)).toEqual(['layers/no-restricted-value-imports']);
  }
  expect(results.workerToRuntime[0][1]).toContain('worker/ may import values only from: csv, batch, protocol, errors, log');
  expect(results.batchToConfig[0][1]).toContain('batch/ may import values only from: errors');
});

it('lets a type-only import cross, and value imports that follow the arrows', () => {
  expect(results.workerTypeFromPlan).toEqual([]);
  expect(results.workerToBatch).toEqual([]);
  expect(results.batchToErrors).toEqual([]);
  expect(results.sinkToSharedCsv).toEqual([]);
});

it('keeps io/sinks and io/sources apart, types included; shared CSV code imports neither', () => {
  expect(rules('sinkToSourceValue')).toEqual(['import-x/no-restricted-paths']);
  expect(rules('sinkToSourceType')).toEqual(['import-x/no-restricted-paths']);
  expect(results.sinkToSourceType[0][1]).toContain('a sink never reads a source');
  expect(rules('sharedCsvToSource')).toEqual(['import-x/no-restricted-paths']);
});

it('refuses even a type import of cli/', () => {
  expect(rules('typeFromCli')).toEqual(['import-x/no-restricted-paths']);
});

it('refuses an import it cannot resolve (the zones would skip it silently)', () => {
  expect(rules('unresolved')).toEqual(['import-x/no-unresolved']);
});
