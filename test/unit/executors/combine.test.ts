/**
 * combine (executors/combine.ts): a stage with flush and combine runs as several copies, and
 * its one output is combine over every copy's flushed partials (each key once, the totals
 * right), in every mode; a throw in combine fails the run naming the stage and the phase.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../../src/config';
import type { PipelineConfig } from '../../../src/config/types';
import { buildPlan } from '../../../src/plan/build';
import { runPlan } from '../../../src/runtime/run';

const STAGE = path.resolve(__dirname, '../../fixtures/stages/count-combine.ts');
const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-combine-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
const KEYS = ['a', 'b', 'c', 'ü', 'e'];
const ROWS = 2000;
writeFileSync(path.join(root, 'in.csv'), 'key\n' + Array.from({ length: ROWS }, (_, i) => KEYS[(i * 7) % KEYS.length]).join('\n') + '\n');
const expected = Object.fromEntries(KEYS.map((k) => [k, Array.from({ length: ROWS }, (_, i) => KEYS[(i * 7) % KEYS.length]).filter((x) => x === k).length]));

let n = 0;
async function run(mode: 'inline' | 'thread' | 'process', copies: number, options: Record<string, unknown> = {}) {
  const dir = path.join(root, `case-${n++}`);
  mkdirSync(dir);
  const config: PipelineConfig = {
    name: 'combine',
    source: { format: 'csv', path: path.join(root, 'in.csv'), batchRows: 50 },
    stages: [{ name: 'agg', module: STAGE, mode, concurrency: copies, options }],
    sink: { format: 'csv', path: path.join(dir, 'out.csv') },
  };
  const resolved = checkConfig(config, '', dir);
  const report = await runPlan(buildPlan(resolved.config, resolved), { log });
  const [header, ...lines] = readFileSync(path.join(dir, 'out.csv'), 'utf8').trim().split('\n');
  return { report, header, rows: lines.map((l) => l.split(',')) };
}

describe.each(['inline', 'thread', 'process'] as const)('combine, %s', (mode) => {
  it('two copies: one output, each key once, the totals of every batch', async () => {
    const { header, rows, report } = await run(mode, 2);
    expect(header).toBe('key,n,partials');
    expect(rows.map((r) => r[0])).toEqual([...KEYS].sort()); // once each: not one partial per copy
    expect(Object.fromEntries(rows.map((r) => [r[0], Number(r[1])]))).toEqual(expected);
    for (const r of rows) expect(Number(r[2])).toBeGreaterThanOrEqual(1);
    for (const r of rows) expect(Number(r[2])).toBeLessThanOrEqual(2);
    expect(report.stages[0].rowsOut).toBe(KEYS.length);
  }, 60_000);

  it('a throw in combine fails the run, naming the stage and combine()', async () => {
    await expect(run(mode, 2, { failIn: 'combine' })).rejects.toThrow('stage "agg" failed in combine(): deliberate failure in combine');
  }, 60_000);
});

it('one copy runs combine too (its output is what combine makes of the one partial)', async () => {
  const { header, rows } = await run('thread', 1);
  expect(header).toBe('key,n,partials');
  expect(rows.map((r) => Number(r[2]))).toEqual(KEYS.map(() => 1));
  expect(Object.fromEntries(rows.map((r) => [r[0], Number(r[1])]))).toEqual(expected);
}, 60_000);
