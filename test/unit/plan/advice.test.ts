import { advise, type StageCost } from '../../../src/plan/advice';

const base: StageCost = { msPerBatch: 50, cpuPerWall: 1, usesPolars: false, threadHandoffMs: 0.1, processHandoffMs: 5, stateful: false, threadSafe: true };
const facts = { sourceMsPerBatch: 10, cores: 2 };

describe('advise', () => {
  it('keeps work cheaper than a hand-off inline', () => {
    expect(advise({ ...base, msPerBatch: 0.15 }, facts)).toMatchObject({ mode: 'inline', concurrency: 1 });
  });

  it('keeps natively parallel work inline (no oversubscription)', () => {
    const a = advise({ ...base, cpuPerWall: 1.9, usesPolars: true }, facts);
    expect(a).toMatchObject({ mode: 'inline', concurrency: 1 });
    expect(a.reason).toMatch(/1\.9 cores/);
  });

  it('does not mistake the garbage collection of a JS stage (helper threads) for native parallelism', () => {
    expect(advise({ ...base, cpuPerWall: 1.9, usesPolars: false }, facts)).toMatchObject({ mode: 'thread', concurrency: 2 });
  });

  it('sends CPU-bound JS to threads with enough copies to keep up, capped by cores', () => {
    expect(advise(base, facts)).toMatchObject({ mode: 'thread', concurrency: 2 });
    expect(advise({ ...base, msPerBatch: 5 }, { sourceMsPerBatch: 10, cores: 8 })).toMatchObject({ mode: 'thread', concurrency: 1 });
    expect(advise({ ...base, msPerBatch: 35 }, { sourceMsPerBatch: 10, cores: 8 })).toMatchObject({ mode: 'thread', concurrency: 4 });
  });

  it('says when the copies the cores allow are still slower than the source, and by how much, instead of "keep up"', () => {
    // 4 cores' worth of work on 2 cores: each copy does a batch in 40 ms, the source in 10.
    const a = advise({ ...base, msPerBatch: 79.9 }, facts);
    expect(a).toMatchObject({ mode: 'thread', concurrency: 2 });
    expect(a.reason).not.toMatch(/keep up/);
    expect(a.reason).toMatch(/2 copies \(one per core\) are still about 4\.0× slower than the source \(10 ms\/batch, 2 cores\)/);
    // Enough cores: they keep up, and it says so.
    expect(advise({ ...base, msPerBatch: 35 }, { sourceMsPerBatch: 10, cores: 8 }).reason).toMatch(/4 copies keep up with the source/);
    // One core: one copy, 5× slower.
    expect(advise(base, { sourceMsPerBatch: 10, cores: 1 }).reason).toMatch(/1 copy \(one per core\) is still about 5\.0× slower/);
  });

  it('gives a stateful stage one copy', () => {
    expect(advise({ ...base, stateful: true }, facts)).toMatchObject({ mode: 'thread', concurrency: 1 });
  });

  it('recommends a process when the stage cannot run in a thread', () => {
    const a = advise({ ...base, threadSafe: false }, facts);
    expect(a.mode).toBe('process');
    expect(a.reason).toMatch(/did not load in a worker thread/);
  });
});
