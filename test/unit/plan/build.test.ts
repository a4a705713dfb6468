/** Plan defaults: where the source reads, and the memory bound that follows. */
import { PARQUET_ENCODER_SLOTS, PARQUET_PENDING_BUDGET_BYTES, SOURCE_READ_AHEAD } from '../../../src/defaults';
import { buildPlan, encoderMemory } from '../../../src/plan/build';
import { renderPlan } from '../../../src/plan/explain';
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

describe('memory bound and the sink', () => {
  // The Parquet encoder holds rows until a row group is full (its pending budget) and a few
  // batches in its slots: memory the channels do not see, so the plan's bound counts it.
  it('counts the Parquet encoder: its pending budget and one sink-input batch per slot', () => {
    const csv = plan(config(['thread']));
    const parquet = plan({ ...config(['thread']), sink: { format: 'parquet', path: 'out.parquet' } });
    expect(parquet.memoryBoundBytes - csv.memoryBoundBytes).toBe(PARQUET_PENDING_BUDGET_BYTES + PARQUET_ENCODER_SLOTS * 2 * MiB); // batches of 8 MiB / 4
    expect(encoderMemory('csv', { capacity: 4, capacityBytes: 8 * MiB })).toBe(0);
  });
});

it('explain names the Parquet encoder in the memory line, and only for a Parquet sink', () => {
  const parquet = plan({ ...config(['thread']), sink: { format: 'parquet', path: 'out.parquet' } });
  // 2 channels × 8 MiB + one in-flight input of 2 MiB + 256 MiB pending + 4 slots × 2 MiB
  expect(renderPlan(parquet, [])).toMatch(/memory\s+batch memory is bounded by 282 MiB: .* \+ the Parquet encoder \(256 MiB of rows waiting for a full row group, at most, and 4 batch slots\)/);
  expect(renderPlan(plan(config(['thread'])), [])).not.toContain('Parquet encoder');
});
