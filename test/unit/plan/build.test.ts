/** Plan defaults: where the source reads, and the memory bound that follows. */
import { SOURCE_READ_AHEAD } from '../../../src/defaults';
import { buildPlan } from '../../../src/plan/build';
import type { PipelineConfig, StageMode } from '../../../src/config/types';

const MiB = 1024 * 1024;
const config = (modes: StageMode[], thread?: boolean): PipelineConfig => ({
  name: 'p',
  source: { format: 'csv', path: 'in.csv', ...(thread === undefined ? {} : { thread }) },
  stages: modes.map((mode, i) => ({ name: `s${i}`, module: './s.ts', mode })),
  sink: { format: 'csv', path: 'out.csv' },
  channel: { capacity: 4, capacityBytes: 8 * MiB },
});
const plan = (c: PipelineConfig) => buildPlan(c, { file: '/x/p.ts', baseDir: '/x' });

describe('source thread', () => {
  it('gets a thread of its own when the main thread runs a stage', () => {
    expect(plan(config(['inline', 'thread'])).source.thread).toBe(true);
  });

  it('reads on the main thread when that only coordinates', () => {
    expect(plan(config([])).source.thread).toBe(false);
    expect(plan(config(['thread', 'process'])).source.thread).toBe(false);
  });

  it('follows the config when it says', () => {
    expect(plan(config(['thread'], true)).source.thread).toBe(true);
    expect(plan(config(['inline'], false)).source.thread).toBe(false);
  });

  it('counts the read-ahead in the memory bound', () => {
    const here = plan(config(['thread'], false)).memoryBoundBytes;
    const there = plan(config(['thread'], true)).memoryBoundBytes;
    expect(there - here).toBe(SOURCE_READ_AHEAD * 2 * MiB); // batches of 8 MiB / 4
  });
});
