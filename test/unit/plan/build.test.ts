/** Plan defaults: where the source reads, and the memory bound that follows. */
import { STAGE_CONCURRENCY, PARQUET_ENCODE_STAGE, PARQUET_ENCODER_SLOTS, PARQUET_PENDING_BUDGET_BYTES, PARTITION_STAGE, SOURCE_READ_AHEAD, SOURCE_THREAD_MIN_INPUT_BYTES } from '../../../src/defaults';
import { buildPlan, encoderMemory } from '../../../src/plan/build';
import { coreBudget } from '../../../src/plan/cores';
import type { PlannedStage } from '../../../src/plan/types';
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
    expect(buildPlan(config(['inline'], true), { file: '', baseDir: '/x', inputBytes: 1 }).source.thread).toBe(true);
  });

  it('reads a small input on the main thread even beside an inline stage (starting a thread would cost more)', () => {
    const sized = (inputBytes: number | undefined) => buildPlan(config(['inline', 'thread']), { file: '', baseDir: '/x', inputBytes }).source.thread;
    expect(sized(2 * MiB)).toBe(false);
    expect(sized(SOURCE_THREAD_MIN_INPUT_BYTES - 1)).toBe(false);
    expect(sized(SOURCE_THREAD_MIN_INPUT_BYTES)).toBe(true);
    expect(sized(undefined)).toBe(true); // not measured (a plan built in code): as before
  });

  it('counts the read-ahead in the memory bound', () => {
    // a process stage first: no fused parse on either side
    const here = plan(config(['process'], false)).memoryBoundBytes;
    const there = plan(config(['process'], true)).memoryBoundBytes;
    expect(there - here).toBe(SOURCE_READ_AHEAD * 2 * MiB); // batches of 8 MiB / 4
  });
});

describe('memory bound and the sink', () => {
  // Parquet encoding is a stage of the topology: its slots (inputs in flight) and its output
  // channel count as any stage's, and the rows it holds until a row group is full (its
  // pending budget) come on top, since no channel sees them.
  it('counts the Parquet encoding stage: its output channel, one sink-input batch per slot, and its pending budget', () => {
    const csv = plan(config(['thread']));
    const parquet = plan({ ...config(['thread']), sink: { format: 'parquet', path: 'out.parquet' } });
    const encode = parquet.stages.at(-1)!;
    expect(encode).toMatchObject({ name: PARQUET_ENCODE_STAGE, mode: 'thread', encode: { input: 'batches' } });
    expect(encode.copies * encode.slotsPerCopy).toBeGreaterThanOrEqual(PARQUET_ENCODER_SLOTS);
    const slots = Math.min(encode.copies * encode.slotsPerCopy, 4); // at most the channel's capacity of 4
    // its output channel + its tasks' inputs + its slots' copies + its pending rows (batches of 8 MiB / 4)
    expect(parquet.memoryBoundBytes - csv.memoryBoundBytes).toBe(8 * MiB + slots * 2 * MiB + PARQUET_ENCODER_SLOTS * 2 * MiB + PARQUET_PENDING_BUDGET_BYTES);
    expect(encoderMemory({ format: 'csv', path: 'x' }, { capacity: 4, capacityBytes: 8 * MiB })).toBe(0);
  });

  it('routes a partitioned sink\'s rows in a stage of their own, before the Parquet encoding stage', () => {
    const csv = plan({ ...config(['thread']), sink: { format: 'csv', path: 'out', partitionBy: ['a'] } });
    const parquet = plan({ ...config(['thread']), sink: { format: 'parquet', path: 'out', partitionBy: ['a'] } });
    expect(csv.stages.map((s) => [s.name, s.mode, s.partition?.columns])).toEqual([['s0', 'thread', undefined], [PARTITION_STAGE, 'inline', ['a']]]);
    expect(parquet.stages.map((s) => [s.name, s.encode?.partitioned])).toEqual([['s0', undefined], [PARTITION_STAGE, undefined], [PARQUET_ENCODE_STAGE, true]]);
    // The encoding stage as before: its output channel, its tasks' inputs, its slots, its pending rows.
    const slots = Math.min(parquet.stages.at(-1)!.copies * parquet.stages.at(-1)!.slotsPerCopy, 4);
    expect(parquet.memoryBoundBytes - csv.memoryBoundBytes).toBe(8 * MiB + slots * 2 * MiB + PARQUET_ENCODER_SLOTS * 2 * MiB + PARQUET_PENDING_BUDGET_BYTES);
  });
});

it('explain shows the Parquet encoding stage, and its pending rows in the memory line, only for a Parquet sink', () => {
  const parquet = plan({ ...config(['thread']), sink: { format: 'parquet', path: 'out.parquet' } });
  const text = renderPlan(parquet, []);
  expect(text).toMatch(/stage\s+parquet-encode: thread × \d+ \(up to \d+ batches in flight\)\s+\(built in: the rows cut into row groups of 262,144/);
  // 3 channels × 8 MiB + in-flight inputs (1 + 4) × 2 MiB + the batch s0 parsed (fused) 2 MiB + 4 slots × 2 MiB + 256 MiB pending
  expect(text).toMatch(/memory\s+batches in memory are bounded by 300 MiB: .* \+ parquet-encode: 4 batch slots and 256 MiB of rows waiting for a full row group, at most/);
  expect(renderPlan(plan(config(['thread'])), [])).not.toMatch(/parquet-encode|Parquet encoder/);
});

describe('fused parse (a thread stage first parses the CSV in its copies)', () => {
  it('fuses a CSV source into a first thread stage: no source thread, chunks of one batch each', () => {
    const p = plan(config(['thread', 'inline']));
    expect(p.parseIn).toEqual({ stage: 's0', rowsPerChunk: 65_536 });
    expect(p.source.thread).toBe(false);
    expect(p.source.readAhead).toBe(0);
  });

  it('does not fuse when the first stage is not a thread stage, the source is not CSV, or the config asks for a source thread', () => {
    expect(plan(config(['inline', 'thread'])).parseIn).toBeUndefined();
    expect(plan(config(['process'])).parseIn).toBeUndefined();
    expect(plan(config([])).parseIn).toBeUndefined();
    expect(plan(config(['thread'], true)).parseIn).toBeUndefined();
    expect(plan(config(['thread'], false)).parseIn).toEqual({ stage: 's0', rowsPerChunk: 65_536 });
    const parquet = config(['thread']);
    parquet.source = { format: 'parquet', path: 'in.parquet' };
    expect(plan(parquet).parseIn).toBeUndefined();
  });

  it('does not fuse into a stage with onError: a batch it throws on is cut into parts by rows, which a chunk of text has not', () => {
    for (const onError of ['skip', 'dead-letter'] as const) {
      const c = config(['thread']);
      c.stages[0] = { ...c.stages[0], onError };
      expect(plan(c).parseIn).toBeUndefined();
    }
    const failing = config(['thread']);
    failing.stages[0] = { ...failing.stages[0], onError: 'fail' };
    expect(plan(failing).parseIn).toEqual({ stage: 's0', rowsPerChunk: 65_536 });
  });

  it('does not fuse when the rows types are inferred from would not fit in one batch', () => {
    const small = config(['thread']);
    small.source = { ...small.source, batchRows: 1_000 };
    expect(plan(small).parseIn).toBeUndefined();
    small.source = { ...small.source, inferRows: 1_000 };
    expect(plan(small).parseIn).toEqual({ stage: 's0', rowsPerChunk: 1_000 });
  });

  it('counts the batch each task parsed in the memory bound, and explain says who parses', () => {
    const fused = plan(config(['thread']));
    const unfused = plan(config(['thread'], true));
    // unfused: the source thread's read-ahead; fused: one parsed batch per slot of the stage (2 copies × 1)
    expect(unfused.memoryBoundBytes - SOURCE_READ_AHEAD * 2 * MiB).toBe(fused.memoryBoundBytes - fused.stages[0].copies * fused.stages[0].slotsPerCopy * 2 * MiB);
    const text = renderPlan(fused, ['/x/in.csv']);
    expect(text).toContain('parsed by stage s0 in its threads (fused)');
    expect(text).toMatch(/stage {4}s0: thread × \d+ \(up to \d+ chunks? in flight\) {2}fused: each copy parses its chunk with polars, then runs \/x\/s\.ts/);
    expect(text).toContain('+ the batch each task of s0 parsed');
  });
});

describe('core budget', () => {
  const stage = (name: string, mode: StageMode, copies: number): PlannedStage => ({ name, modulePath: '', mode, copies, slotsPerCopy: 1, options: {}, output: { capacity: 4, capacityBytes: MiB } });

  it('counts every thread and child the plan starts, and the threads running stage code at once', () => {
    const b = coreBudget([stage('a', 'thread', 2), stage('b', 'inline', 1), stage('c', 'process', 3), stage(PARQUET_ENCODE_STAGE, 'thread', 1)], 3, { thread: true }, { cores: 4 });
    expect(b.threads).toEqual([
      { owner: 'source', threads: 1 },
      { owner: 'a', threads: 2 },
      { owner: PARQUET_ENCODE_STAGE, threads: 1 },
    ]);
    expect(b.children).toEqual([{ owner: 'c', processes: 3 }]);
    expect(b.stageThreads).toBe(2 + 1 + 3); // the encoder, sluice's own stage, does not count
  });

  it('leaves polars\' pool at its default (the cores) unless POLARS_MAX_THREADS says otherwise, which must be a positive whole number', () => {
    expect(coreBudget([stage('p', 'process', 2)], 1, { thread: false }, { cores: 2 }).polars).toEqual({ threads: 2, from: 'polars default' });
    expect(coreBudget([stage('p', 'process', 2)], 1, { thread: false }, { cores: 2, polarsEnv: '3' }).polars).toEqual({ threads: 3, from: 'POLARS_MAX_THREADS' });
    expect(coreBudget([stage('p', 'process', 2)], 1, { thread: false }, { cores: 2, polarsEnv: 'lots' }).polars).toEqual({ threads: 2, from: 'polars default' });
  });

  it('explain shows the count, and says when stage code wants more threads than there are cores', () => {
    const text = renderPlan(plan(config(['inline', 'thread', 'process'])), []);
    const cores = plan(config([])).cores.cores;
    const stageThreads = 1 + 2 * STAGE_CONCURRENCY;
    expect(text).toContain(`cores    ${cores}: stage code on ${stageThreads} threads at once${stageThreads > cores ? ' (more than the cores: they take turns)' : ''}; started besides the main thread: source 1 thread, s1 ${STAGE_CONCURRENCY} thread`);
    expect(text).toContain(`s2 ${STAGE_CONCURRENCY} process`);
  });
});

describe('fusion of adjacent stages', () => {
  const stages = (...spec: [StageMode, number][]): PipelineConfig => ({
    ...config([]),
    stages: spec.map(([mode, concurrency], i) => ({ name: `s${i}`, module: `./s${i}.ts`, mode, concurrency, options: { i } })),
  });

  it('fuses consecutive thread stages with the same copies into one, named by its members, with the last one\'s output channel', () => {
    const c = stages(['thread', 2], ['thread', 2], ['thread', 2]);
    c.stages[2].channel = { capacity: 7, capacityBytes: 3 * MiB };
    const p = plan(c);
    expect(p.stages.map((s) => s.name)).toEqual(['s0+s1+s2']);
    expect(p.stages[0].fused).toEqual([0, 1, 2].map((i) => ({ name: `s${i}`, modulePath: `/x/s${i}.ts`, options: { i } })));
    expect(p.stages[0].output).toEqual({ capacity: 7, capacityBytes: 3 * MiB });
    expect(p.parseIn?.stage).toBe('s0+s1+s2');
  });

  it('leaves stages apart across another mode or other copies, and never fuses the stages sluice adds', () => {
    expect(plan(stages(['thread', 2], ['thread', 1])).stages.map((s) => s.name)).toEqual(['s0', 's1']);
    expect(plan(stages(['thread', 2], ['inline', 1], ['thread', 2])).stages.map((s) => s.name)).toEqual(['s0', 's1', 's2']);
    expect(plan(stages(['process', 2], ['process', 2])).stages.map((s) => s.name)).toEqual(['s0', 's1']);
    expect(plan(stages(['inline', 1], ['thread', 2], ['thread', 2], ['process', 1])).stages.map((s) => s.name)).toEqual(['s0', 's1+s2', 's3']);
    const parquet = { ...stages(['thread', 1]), sink: { format: 'parquet' as const, path: 'o.parquet' } };
    expect(plan(parquet).stages.map((s) => s.name)).toEqual(['s0', PARQUET_ENCODE_STAGE]);
  });

  it('can be turned off (explain --profile measures each stage on its own)', () => {
    expect(buildPlan(stages(['thread', 2], ['thread', 2]), { file: '', baseDir: '/x', fuse: false }).stages.map((s) => s.name)).toEqual(['s0', 's1']);
  });
});

describe('explain says where rejected rows go', () => {
  it('says nothing of rejects when nothing rejects rows', () => {
    expect(renderPlan(plan(config(['inline', 'thread'])), [])).not.toMatch(/onError|rejects|dead-letter/);
  });

  it('names the source\'s and each stage\'s onError, the deadLetter output and the budget', () => {
    const c = config(['inline', 'thread', 'process']);
    c.source.onError = 'dead-letter';
    c.stages[0].onError = 'skip';
    c.stages[2].onError = 'dead-letter';
    c.deadLetter = { format: 'ndjson', path: 'rejects.ndjson' };
    c.maxErrors = '0.5%';
    const text = renderPlan(plan(c), []);
    expect(text).toMatch(/^ {2}onError dead-letter: sends to the dead-letter output a row that cannot be read \(a value that does not fit its column/m);
    // Under its own stage's line: s0 skips, s1 says nothing, s2 dead-letters (in its copies).
    const after = (stage: string) => text.split('\n').slice(text.split('\n').findIndex((l) => l.startsWith(`stage    ${stage}:`)) + 1);
    expect(after('s0')[0]).toMatch(/^ {2}onError skip: skips \(counts and drops\) the rows it passes to ctx\.reject and those of a batch on which process\(\) throws \(the batch is split until/);
    expect(after('s1')[0]).not.toMatch(/onError/);
    expect(after('s2')[0]).toMatch(/^ {2}onError dead-letter: sends to the dead-letter output .* \(the batch is split in its copies until they are found; in a stage with flush\(\), the whole batch\)$/);
    expect(text).toContain('rejects  dead-letter → ndjson /x/rejects.ndjson (a row each: where it came from, why, its text and the values that parsed; committed with the sinks, or not at all); maxErrors 0.5%: past it the run fails, committing nothing');
  });

  it('says when skipped rows are only counted, and when there is no budget', () => {
    const c = config(['thread']);
    c.stages[0].onError = 'skip';
    expect(renderPlan(plan(c), [])).toContain('rejects  no deadLetter output: rows are only counted; no budget: every bad row is taken out');
  });
});
