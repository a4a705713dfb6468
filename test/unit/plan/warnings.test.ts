/** Valid settings that make a run crawl get a warning with their config path (src/plan/warnings.ts). */
import path from 'node:path';
import { buildPlan } from '../../../src/plan/build';
import { planWarnings, renderWarnings, type WarningRule } from '../../../src/plan/warnings';
import type { PipelineConfig } from '../../../src/config/types';

const plan = (source: Partial<PipelineConfig['source']> = {}, sink: Partial<PipelineConfig['sink']> = {}, stages: PipelineConfig['stages'] = [{ name: 's', module: './s.ts', mode: 'inline' }]) =>
  buildPlan(
    { name: 'p', source: { format: 'csv', path: 'in.csv', ...source }, stages, sink: { format: 'parquet', path: 'out.parquet', ...sink } },
    { file: '', baseDir: path.sep },
  );

describe('planWarnings', () => {
  it('says nothing about the defaults', () => {
    expect(planWarnings(plan())).toEqual([]);
  });

  it('warns about batchRows: 1 and rowGroupSize: 1 with their paths', () => {
    const warnings = planWarnings(plan({ batchRows: 1 }, { rowGroupSize: 1 }));
    expect(warnings.map((w) => w.path)).toEqual(['source.batchRows', 'sink.rowGroupSize']);
    expect(renderWarnings(warnings)).toBe(
      [
        '⚠ source.batchRows: 1 row per batch: every batch pays a fixed cost (about a millisecond: parsing call, hand-offs, write), so the run moves at most about 1,000 rows/s; use 10 000 or more (default 65 536)',
        '⚠ sink.rowGroupSize: 1 row per Parquet row group: each group carries its own metadata and encoder call, so writing is slow and the file many times larger; use 100 000 or more (default 262 144)',
      ].join('\n'),
    );
  });

  it('draws the line at 1 000 rows, and ignores rowGroupSize for text sinks and batchRows for a direct conversion', () => {
    expect(planWarnings(plan({ batchRows: 999 }))).toHaveLength(1);
    expect(planWarnings(plan({ batchRows: 1000 }, { rowGroupSize: 1000 }))).toEqual([]);
    expect(planWarnings(plan({}, { format: 'csv', path: 'out.csv', rowGroupSize: 1 }))).toEqual([]);
    const direct = plan({ batchRows: 1 }, { rowGroupSize: 20_000 }, []);
    expect(direct.direct).toBeDefined();
    expect(planWarnings(direct)).toEqual([]);
  });

  it('warns about a source of more than 2 000 columns, unless a projection keeps fewer', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);
    expect(planWarnings(plan(), { sourceColumns: names(2000) })).toEqual([]);
    const [warning] = planWarnings(plan(), { sourceColumns: names(10_000) });
    expect(warning.path).toBe('source.path');
    expect(warning.message).toMatch(/^10,000 columns: every column of every batch costs a few milliseconds/);
    expect(planWarnings(plan({ columns: ['c1', 'c2'] }), { sourceColumns: names(10_000) })).toEqual([]);
  });

  it('takes more rules, which may use the facts the checks learnt (the source\'s columns)', () => {
    const wide: WarningRule = (_plan, facts) => (facts.sourceColumns && facts.sourceColumns.length > 2 ? [{ path: 'source.path', message: 'wide' }] : []);
    expect(planWarnings(plan(), { sourceColumns: ['a', 'b', 'c'] }, [wide])).toEqual([{ path: 'source.path', message: 'wide' }]);
    expect(planWarnings(plan(), { sourceColumns: ['a'] }, [wide])).toEqual([]);
  });
});
