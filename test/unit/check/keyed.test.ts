/**
 * `key` on a stage (keyed routing), checked before a run with its config path: a stage with
 * flush() at concurrency > 1 is accepted when keyed (and still refused without key, combine or
 * perCopyFlush); an empty key, a column named twice, a key column the stage's input does not
 * have (from the source, or after a stage that says what it passes on) are refused; past a
 * stage that does not say, the key is a note; with concurrency 1 a key is allowed (a no-op).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPipeline } from '../../../src/check';
import { ConfigError } from '../../../src/errors';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-keyed-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => path.join(dir, f);
writeFileSync(at('in.csv'), 'id,day,country,amount\n1,2026-11-01,DE,0.5\n2,2026-11-02,FR,1.5\n');
writeFileSync(at('stateful.js'), 'module.exports = { default: { process: () => undefined, flush: () => undefined } };');
writeFileSync(at('opaque.js'), 'module.exports = { default: { process: (b) => b } };');
writeFileSync(at('adds-week.js'), "module.exports = { default: { process: (b) => b, outputColumns: (input) => [...input.filter((c) => c !== 'day'), 'week'] } };");

const config = (stages: Record<string, unknown>[]) => ({
  name: 'p',
  source: { format: 'csv', path: 'in.csv' },
  stages,
  sink: { format: 'parquet', path: 'out.parquet' },
});
const agg = (over: Record<string, unknown> = {}) => ({ name: 'agg', module: './stateful.js', mode: 'thread', concurrency: 2, key: ['day', 'country'], ...over });

async function issues(raw: unknown): Promise<string[]> {
  try {
    await checkPipeline(raw, { file: at('p.config.ts'), baseDir: dir });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

it.each(['thread', 'process', 'inline'])('accepts a keyed stage with flush() at concurrency 2 (%s)', async (mode) => {
  await expect(checkPipeline(config([agg({ mode })]), { file: '', baseDir: dir })).resolves.toBeDefined();
});

it('still refuses the same stage without key at concurrency 2', async () => {
  const found = await issues(config([agg({ key: undefined })]));
  expect(found).toHaveLength(1);
  expect(found[0]).toMatch(/^stages\[0\]\.concurrency: stage "agg" has flush\(\).*give it key: \[columns\]/);
});

it('allows a key at concurrency 1 (a no-op)', async () => {
  await expect(checkPipeline(config([agg({ concurrency: 1 })]), { file: '', baseDir: dir })).resolves.toBeDefined();
});

it('refuses an empty key, and a key that is not a list of names', async () => {
  expect(await issues(config([agg({ key: [] })]))).toEqual(['stages[0].key: must name at least one column, got []']);
  expect(await issues(config([agg({ key: 'day' })]))).toEqual([expect.stringMatching(/^stages\[0\]\.key: .*got "day"$/)]);
  expect(await issues(config([agg({ key: [''] })]))).toEqual(['stages[0].key[0]: must be a column name, got ""']);
});

it('refuses a column named twice in the key', async () => {
  expect(await issues(config([agg({ key: ['day', 'country', 'day'] })]))).toEqual(['stages[0].key: column "day" is named twice; name each key column once']);
});

it('refuses a key column the source does not have, with its config path and the nearest name', async () => {
  const found = await issues(config([agg({ key: ['day', 'contry'] })]));
  expect(found).toEqual([expect.stringMatching(/^stages\[0\]\.key: key: column "contry" .*"country"/)]);
});

it('refuses a key column the stage before it does not pass on (it said what it passes on)', async () => {
  const found = await issues(config([{ name: 'weekly', module: './adds-week.js', mode: 'inline' }, agg({ name: 'agg2', key: ['day'] })]));
  expect(found).toEqual([expect.stringMatching(/^stages\[1\]\.key: key: column "day" is not among the columns stage "weekly" passes on \(id, country, amount, week\)/)]);
  await expect(checkPipeline(config([{ name: 'weekly', module: './adds-week.js', mode: 'inline' }, agg({ name: 'agg2', key: ['week'] })]), { file: '', baseDir: dir })).resolves.toBeDefined();
});

it('past a stage that does not say what it passes on, the key is a note, not an issue', async () => {
  const checked = await checkPipeline(config([{ name: 'opaque', module: './opaque.js', mode: 'inline' }, agg({ name: 'agg2', key: ['whatever'] })]), { file: '', baseDir: dir });
  expect(checked.notes.map((n) => `${n.path}: ${n.message}`)).toEqual([expect.stringMatching(/^stages\[1\]\.key: key columns not checked: stage "opaque" before it may change the columns/)]);
});

it('projection pushdown keeps a keyed stage’s key columns even when its reads() does not list them (routing reads them)', async () => {
  writeFileSync(at('reads-amount.js'), "module.exports = { default: { process: () => undefined, flush: () => undefined, reads: () => ['amount'], outputColumns: () => ['total'] } };");
  const checked = await checkPipeline(config([agg({ module: './reads-amount.js', key: ['country'] })]), { file: '', baseDir: dir });
  expect(checked.projection?.columns).toEqual(['country', 'amount']);
  expect(checked.projection?.pruned).toEqual(['id', 'day']);
});
