import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkConfig } from '../../../src/config';
import { applyOverrides } from '../../../src/config/overrides';
import { validateConfig } from '../../../src/config/schema';
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
