import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkConfig } from '../../../src/config';
import { applyOverrides } from '../../../src/config/overrides';
import { validateConfig } from '../../../src/config/validate';
import { ConfigError } from '../../../src/errors';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-config-'));
writeFileSync(path.join(dir, 'in.csv'), 'a\n1\n');
writeFileSync(path.join(dir, 'stage.ts'), 'export default { process: (b: unknown) => b };');

const valid = () => ({
  name: 'p',
  source: { format: 'csv', path: 'in.csv' },
  stages: [
    { name: 'one', module: './stage.ts', mode: 'inline' },
    { name: 'two', module: './stage.ts', mode: 'thread', concurrency: 2 },
  ],
  sink: { format: 'parquet', path: 'out.parquet' },
});

function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('config validation', () => {
  it('accepts a valid config', () => {
    expect(checkConfig(valid(), path.join(dir, 'p.ts'), dir).config.name).toBe('p');
  });

  it('names the path, the rule and the value of a zero concurrency', () => {
    const c = valid();
    (c.stages[1] as Record<string, unknown>).concurrency = 0;
    expect(issues(() => validateConfig(c))).toEqual(['stages[1].concurrency: must be an integer >= 1, got 0']);
  });

  it('bounds sink.rowGroupSize by what polars can write as one row group', () => {
    const c = valid();
    (c.sink as Record<string, unknown>).rowGroupSize = 1_000_000;
    expect(issues(() => validateConfig(c))).toEqual(['sink.rowGroupSize: must be at most 524287 rows (the most polars 0.24.1 writes as one row group), got 1000000']);
  });

  it('checks source.thread is a boolean', () => {
    const c = valid() as Record<string, any>;
    c.source.thread = 'yes';
    expect(issues(() => validateConfig(c))).toEqual(['source.thread: must be true or false, got "yes"']);
    c.source.thread = false;
    expect(validateConfig(c).source.thread).toBe(false);
  });

  it('bounds source.maxRowBytes between 1 byte and 1 GiB', () => {
    const c = valid() as Record<string, any>;
    c.source.maxRowBytes = 0;
    expect(issues(() => validateConfig(c))).toEqual(['source.maxRowBytes: must be a byte count >= 1, got 0']);
    c.source.maxRowBytes = 2 ** 31;
    expect(issues(() => validateConfig(c))).toEqual(['source.maxRowBytes: must be at most 1073741824 bytes (1 GiB), got 2147483648']);
    c.source.maxRowBytes = 1024;
    expect(validateConfig(c).source.maxRowBytes).toBe(1024);
  });

  it('reports an unknown mode with the allowed ones', () => {
    const c = valid();
    c.stages[0].mode = 'threads';
    expect(issues(() => validateConfig(c))).toEqual(['stages[0].mode: must be one of inline, thread, process, got "threads"']);
  });

  it('reports every problem at once, with near-miss hints for unknown keys', () => {
    const c = valid() as Record<string, any>;
    c.source.batchrows = 10;
    c.sink.format = 'xlsx';
    delete c.name;
    const found = issues(() => validateConfig(c));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: must be a non-empty name, missing$/),
        expect.stringMatching(/^sink\.format: must be one of parquet, csv, ndjson, arrow, got "xlsx"$/),
        expect.stringMatching(/^source\.batchrows: unknown key \(did you mean "batchRows"\?\)/),
      ]),
    );
    expect(found).toHaveLength(3);
  });

  it('rejects duplicate stage names', () => {
    const c = valid();
    c.stages[1].name = 'one';
    expect(issues(() => validateConfig(c))).toEqual(['stages[1].name: duplicate stage name "one" (also stages[0]); names must be unique']);
  });

  it('reports duplicate names and missing files together with schema errors (no rounds)', () => {
    const c = valid() as Record<string, any>;
    c.stages[1].name = 'one';
    c.stages[1].module = './missing.ts';
    c.stages[0].concurrency = 0;
    c.sink.format = 'xlsx';
    expect(issues(() => checkConfig(c, path.join(dir, 'p.ts'), dir))).toEqual([
      'stages[0].concurrency: must be an integer >= 1, got 0',
      'sink.format: must be one of parquet, csv, ndjson, arrow, got "xlsx"',
      'stages[1].name: duplicate stage name "one" (also stages[0]); names must be unique',
      `stages[1].module: file not found: ${path.join(dir, 'missing.ts')}`,
    ]);
  });

  it('refuses keys that would be ignored where they stand', () => {
    const c = valid() as Record<string, any>;
    c.source = { format: 'parquet', path: 'in.csv', delimiter: ';', schema: { a: 'utf8' } };
    c.sink = { format: 'csv', path: 'out.csv', compression: 'zstd', rowGroupSize: 10, maxOpenFiles: 4 };
    expect(issues(() => checkConfig(c, path.join(dir, 'p.ts'), dir))).toEqual([
      'source.delimiter: applies to CSV sources only; a parquet source would ignore it (its files carry their own layout); remove it',
      'source.schema: applies to CSV sources only; a parquet source would ignore it (its files carry their own types); remove it',
      'sink.compression: applies to Parquet sinks only; a csv sink would ignore it; remove it',
      'sink.rowGroupSize: applies to Parquet sinks only; a csv sink would ignore it; remove it',
      'sink.maxOpenFiles: applies to partitioned output only (with sink.partitionBy); remove it',
    ]);
  });

  it('names options a thread or process stage cannot receive, by path (an inline stage may hold anything)', () => {
    const c = valid() as Record<string, any>;
    c.stages[0].options = { fn: () => 1 };
    c.stages[1].options = { nested: { list: [1, () => 2] } };
    c.stages.push({ name: 'three', module: './stage.ts', mode: 'process', options: { id: Symbol('x') } });
    c.stages.push({ name: 'four', module: './stage.ts', mode: 'thread', options: { wm: new WeakMap() } });
    expect(issues(() => checkConfig(c, path.join(dir, 'p.ts'), dir))).toEqual([
      'stages[1].options.nested.list[1]: a function cannot be passed to a thread stage (options cross to it by structured clone); pass plain data, or use mode: inline',
      'stages[2].options.id: a symbol cannot be passed to a process stage (options cross to it by structured clone); pass plain data, or use mode: inline',
      expect.stringMatching(/^stages\[3\]\.options: cannot be passed to a thread stage: .*WeakMap.* could not be cloned/),
    ]);
  });

  it('reports a missing source file and a missing stage module with resolved paths', () => {
    const c = valid();
    c.source.path = 'nope-*.csv';
    c.stages[1].module = './missing.ts';
    const found = issues(() => checkConfig(c, path.join(dir, 'p.ts'), dir));
    expect(found).toEqual([
      `source.path: no file matches "nope-*.csv" (resolved to ${path.join(dir, 'nope-*.csv')})`,
      `stages[1].module: file not found: ${path.join(dir, 'missing.ts')}`,
    ]);
  });

  it('reports in one pass a directory as source, a source that reads the sink, and a sink path that cannot be written', () => {
    const c: Omit<ReturnType<typeof valid>, 'source'> & { source: { format: string; path: string | string[] } } = valid();
    mkdirSync(path.join(dir, 'folder'), { recursive: true });
    writeFileSync(path.join(dir, 'afile'), '');
    c.source.path = ['folder', '*.parquet'];
    c.sink.path = 'afile/out.parquet';
    const found = issues(() => checkConfig(c, path.join(dir, 'p.ts'), dir));
    expect(found).toEqual([
      `source.path[0]: ${path.join(dir, 'folder')} is a directory; name its files or a glob such as "folder/*.csv"`,
      `source.path[1]: no file matches "*.parquet" (resolved to ${path.join(dir, '*.parquet')})`,
      `sink.path: cannot write ${path.join(dir, 'afile/out.parquet')}: ENOTDIR: ${path.join(dir, 'afile')} is a file, not a directory`,
    ]);
    c.source.path = '*.parquet';
    c.sink.path = 'out.parquet';
    expect(issues(() => checkConfig(c, path.join(dir, 'p.ts'), dir))).toEqual([
      `source.path: no file matches "*.parquet" (resolved to ${path.join(dir, '*.parquet')})`,
      `source.path: "*.parquet" also names the sink's output ${path.join(dir, 'out.parquet')} (sink.path "out.parquet" → ${path.join(dir, 'out.parquet')}): every run would read the output of the one before; write the output outside the inputs or narrow the pattern`,
    ]);
  });

  it('applies --mode/--concurrency overrides and names an unknown stage', () => {
    const c = applyOverrides(valid(), { mode: ['one=process'], concurrency: ['two=3'] }) as ReturnType<typeof valid>;
    expect(c.stages[0].mode).toBe('process');
    expect(c.stages[1].concurrency).toBe(3);
    expect(valid().stages[0].mode).toBe('inline'); // the original is untouched
    expect(issues(() => applyOverrides(valid(), { mode: ['three=thread'] }))).toEqual(['--mode: no stage named "three" (stages: one, two)']);
    expect(issues(() => applyOverrides(valid(), { concurrency: ['two=zero'] }))).toEqual(['--concurrency: two: must be an integer >= 1, got "zero"']);
    expect(issues(() => applyOverrides(valid(), { mode: ['one'] }))).toEqual(['--mode: expected <stage>=<value>, got "one"']);
  });
});
