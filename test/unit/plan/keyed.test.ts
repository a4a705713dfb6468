/**
 * The plan of a keyed stage: `key` carried to the planned stage; fusion (plan/fuse.ts) never
 * merges a keyed stage with a neighbour (unkeyed, another key, or even the same key); a keyed
 * first thread stage does not parse CSV in its copies (its rows are routed after parsing);
 * explain says how the stage is keyed.
 */
import { buildPlan } from '../../../src/plan/build';
import { renderPlan } from '../../../src/plan/explain';
import type { PipelineConfig, StageConfig } from '../../../src/config/types';

const config = (stages: Partial<StageConfig>[]): PipelineConfig => ({
  name: 'p',
  source: { format: 'csv', path: 'in.csv' },
  stages: stages.map((s, i) => ({ name: `s${i}`, module: './s.ts', mode: 'thread', concurrency: 2, ...s })),
  sink: { format: 'csv', path: 'out.csv' },
});
const plan = (c: PipelineConfig) => buildPlan(c, { file: '/x/p.ts', baseDir: '/x' });
const names = (stages: Partial<StageConfig>[]) => plan(config(stages)).stages.map((s) => s.name);

describe('fusion never merges stages with different keys', () => {
  it('two unkeyed thread stages still fuse (as before)', () => expect(names([{}, {}])).toEqual(['s0+s1']));
  it('a keyed stage after an unkeyed one', () => expect(names([{}, { key: ['day'] }])).toEqual(['s0', 's1']));
  it('an unkeyed stage after a keyed one', () => expect(names([{ key: ['day'] }, {}])).toEqual(['s0', 's1']));
  it('two stages with different keys', () => expect(names([{ key: ['day'] }, { key: ['country'] }])).toEqual(['s0', 's1']));
  it('two stages with the same key (the first may change the key values its copy holds)', () => expect(names([{ key: ['day'] }, { key: ['day'] }])).toEqual(['s0', 's1']));
  it('a keyed stage between two unkeyed ones splits the chain, the others still fuse', () => expect(names([{}, {}, { key: ['day'] }, {}, {}])).toEqual(['s0+s1', 's2', 's3+s4']));
});

it('carries the key to the planned stage', () => {
  expect(plan(config([{ key: ['day', 'country'] }])).stages[0].key).toEqual(['day', 'country']);
  expect(plan(config([{}])).stages[0].key).toBeUndefined();
});

it('a keyed first thread stage does not parse the CSV in its copies (the source parses, then rows are routed)', () => {
  expect(plan(config([{ key: ['day'] }])).parseIn).toBeUndefined();
  expect(plan(config([{}])).parseIn).toEqual({ stage: 's0', rowsPerChunk: 65_536 });
  // one copy needs no routing: parsing in its copy stays
  expect(plan(config([{ key: ['day'], concurrency: 1 }])).parseIn).toEqual({ stage: 's0', rowsPerChunk: 65_536 });
});

it('explain says how a keyed stage routes its rows', () => {
  const text = renderPlan(plan(config([{ key: ['day', 'country'] }])), ['/x/in.csv']);
  expect(text).toContain('keyed by day, country: each row goes to copy hash(key) mod 2');
});

/**
 * Where a keyed stage's input is cut (plan/key-split.ts): in its producer when the producer runs
 * off the main thread (a thread or process stage, the source thread) and the keyed stage is its
 * only reader; else on the main thread. explain says which.
 */
describe('where the cut is made', () => {
  const withSource = (c: PipelineConfig, thread: boolean): PipelineConfig => ({ ...c, source: { ...c.source, thread } });
  it.each(['thread', 'process'] as const)('a %s producer cuts its output for its keyed reader', (mode) => {
    const p = plan(config([{ mode }, { key: ['day'], mode: 'process' }]));
    expect(p.stages[0].splitOut).toEqual({ stage: 's1', key: ['day'], copies: 2 });
    expect(renderPlan(p, ['/x/in.csv'])).toContain(`cut in s0's ${mode === 'process' ? 'child processes' : 'threads'} before the hand-off`);
  });
  it('an inline producer: the cut is on the main thread', () => {
    const p = plan(config([{ mode: 'inline' }, { key: ['day'] }]));
    expect(p.stages[0].splitOut).toBeUndefined();
    expect(renderPlan(p, ['/x/in.csv'])).toContain('cut on the main thread');
  });
  it('the source thread cuts for a keyed first stage; a source read on the main thread does not', () => {
    expect(plan(withSource(config([{ key: ['day'] }]), true)).source.splitOut).toEqual({ stage: 's0', key: ['day'], copies: 2 });
    expect(renderPlan(plan(withSource(config([{ key: ['day'] }]), true)), ['/x/in.csv'])).toContain('cut in the source thread');
    expect(plan(withSource(config([{ key: ['day'] }]), false)).source.splitOut).toBeUndefined();
  });
  it('no cut for one copy, nor for an unkeyed reader', () => {
    expect(plan(config([{}, { key: ['day'], concurrency: 1 }])).stages[0].splitOut).toBeUndefined();
    expect(plan(withSource(config([{ key: ['day'], concurrency: 1 }]), true)).source.splitOut).toBeUndefined();
    expect(plan(config([{ mode: 'process' }, { mode: 'process' }])).stages[0].splitOut).toBeUndefined();
  });
  it('a producer with another reader (a sink, fan-out) is not cut: the other reader gets its batches whole', () => {
    const c: PipelineConfig = {
      name: 'p',
      source: { format: 'csv', path: 'in.csv' },
      stages: [
        { name: 'a', module: './s.ts', mode: 'thread', concurrency: 2 },
        { name: 'b', module: './s.ts', mode: 'thread', concurrency: 2, key: ['day'] },
      ],
      sinks: [
        { name: 'rows', from: 'a', format: 'csv', path: 'a.csv' },
        { name: 'totals', from: 'b', format: 'csv', path: 'b.csv' },
      ],
    } as PipelineConfig;
    const p = plan(c);
    expect(p.stages.find((s) => s.name === 'a')!.splitOut).toBeUndefined();
    expect(renderPlan(p, ['/x/in.csv'])).toContain('cut on the main thread');
  });
});
