/**
 * Imports run one way (DESIGN.md). A value import against the arrows fails this test;
 * `import type` is free (it vanishes at run time), except that nothing may import cli/.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');

/** The area a file belongs to: first folder under src/, or the file name for top-level files. */
function area(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length > 1 ? rel[0] : rel[0].replace(/\.(ts|mjs)$/, '');
}

/** Which areas each area may import values from (besides itself). */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  log: [],
  protocol: ['errors'],
  batch: ['errors'],
  config: ['errors', 'inputs'],
  plan: ['config', 'errors'],
  io: ['batch', 'config', 'errors', 'log', 'inputs', 'loader'],
  worker: ['batch', 'protocol', 'errors', 'log'],
  executors: ['worker', 'protocol', 'batch', 'errors', 'log', 'loader'],
  runtime: ['plan', 'executors', 'io', 'batch', 'log', 'errors'],
  check: ['config', 'plan', 'io', 'worker', 'errors', 'inputs'],
  // sluice/testing hosts stages through the executors (as a run does) and reads configs for `sluice test`.
  testing: ['config', 'plan', 'executors', 'worker', 'batch', 'errors', 'log'],
  cli: ['config', 'plan', 'check', 'runtime', 'io', 'executors', 'batch', 'log', 'errors', 'loader', 'worker', 'testing'],
  index: ['config', 'worker', 'errors', 'plan', 'check', 'runtime', 'log'],
  loader: [],
  inputs: [],
  register: [],
  'alias-hooks': [],
};

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (/\.(ts|mjs)$/.test(entry.name)) yield full;
  }
}

function valueImports(file: string): { spec: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const out: { spec: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) out.push({ spec: m[3], typeOnly: Boolean(m[2]) });
  for (const m of text.matchAll(/(?:import|require)\(\s*'([^']+)'\s*\)/g)) out.push({ spec: m[1], typeOnly: false });
  return out.filter((i) => i.spec.startsWith('.'));
}

it('src/ imports follow the dependency direction', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const from = area(file);
    for (const imp of valueImports(file)) {
      const target = path.resolve(path.dirname(file), imp.spec);
      const to = area(target.endsWith('.ts') || target.endsWith('.mjs') ? target : `${target}.ts`);
      if (to === from) continue;
      if (to === 'cli') violations.push(`${path.relative(SRC, file)} imports cli (${imp.spec})`);
      else if (!imp.typeOnly && !(ALLOWED[from] ?? []).includes(to)) violations.push(`${path.relative(SRC, file)} → ${imp.spec} (${from} may not import ${to})`);
    }
  }
  expect(violations).toEqual([]);
});
