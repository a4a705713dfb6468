/** Settings that run but run slowly are named, in `explain` and at the start of `run`. */
import type { PipelineConfig } from '../../../src/config/types';
import { buildPlan } from '../../../src/plan/build';
import { renderPlan } from '../../../src/plan/explain';
import { planWarnings } from '../../../src/plan/warnings';

const plan = (source: Partial<PipelineConfig['source']>, sink: Partial<PipelineConfig['sink']> = {}, stages = 1) =>
  buildPlan(
    {
      name: 'p',
      source: { format: 'csv', path: 'in.csv', ...source },
      stages: Array.from({ length: stages }, (_, i) => ({ name: `s${i}`, module: './s.ts', mode: 'thread' as const })),
      sink: { format: 'parquet', path: 'out.parquet', ...sink },
    },
    { file: '/x/p.ts', baseDir: '/x' },
  );

it('says nothing for the defaults and for batches of 1 024 rows or more', () => {
  expect(planWarnings(plan({}))).toEqual([]);
  expect(planWarnings(plan({ batchRows: 1024 }, { rowGroupSize: 1024 }))).toEqual([]);
});

it('warns of tiny batches and tiny row groups, and explain shows it', () => {
  const p = plan({ batchRows: 1 }, { rowGroupSize: 10 });
  const warnings = planWarnings(p);
  expect(warnings).toHaveLength(2);
  expect(warnings[0]).toMatch(/^source\.batchRows is 1: every batch pays a fixed cost/);
  expect(warnings[1]).toMatch(/^sink\.rowGroupSize is 10: /);
  expect(renderPlan(p, ['/x/in.csv'])).toContain(`warning  ${warnings[0]}`);
});

it('a direct conversion has no batches: only its row groups count', () => {
  const p = plan({ batchRows: 1 }, { rowGroupSize: 100_000 }, 0);
  expect(p.direct).toBeDefined();
  expect(planWarnings(p)).toEqual([]);
});
