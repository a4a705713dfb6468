/**
 * The test kit (`sluice/testing`) as a user's jest test calls it: a stage that keeps its state
 * in module-level variables (the example `stages/aggregate.ts`; test/fixtures/stages/module-totals.ts,
 * with `combine`) run once, then twice at once, in each mode (inline with 1 and 2 copies,
 * thread with 2, process): every run's totals are DuckDB's over the same rows. Before each copy
 * of each run had its own module instance (src/worker/fresh.ts), inline copies shared one, so
 * each flushed both copies' totals, and two runs at once could not both load a fresh instance
 * (jest's module isolation does not nest). The other entries (CLI, run()) are
 * test/e2e/module-state.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchFromRows, runStage, type StageTestOptions } from 'sluice/testing';
import { duckRows } from '../../helpers/duckdb';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-kit-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COUNTRIES = ['SE', 'DE', 'FR'];
const CURRENCIES = ['EUR', 'SEK'];
const STATUS = ['settled', 'settled', 'refunded', 'test'];
const rows = Array.from({ length: 240 }, (_, i) => ({ day: `2026-11-0${1 + (i % 3)}`, country: COUNTRIES[Math.floor(i / 5) % 3], currency: CURRENCIES[i % 2], customer_id: `c${(i * 13) % 41}`, status: STATUS[i % 4], amount: (i % 97) / 4 }));
const csv = path.join(dir, 'in.csv');
writeFileSync(csv, ['day,country,currency,customer_id,status,amount', ...rows.map((r) => Object.values(r).join(','))].join('\n') + '\n');
/** Six batches of 40 rows: the stage's state grows across batches. */
const batches = () => Array.from({ length: 6 }, (_, b) => batchFromRows(rows.slice(b * 40, b * 40 + 40)));

const TOTALS = path.resolve(__dirname, '../../fixtures/stages/module-totals.ts');
const AGGREGATE = path.resolve(__dirname, '../../../stages/aggregate.ts');

const want: Record<string, Record<string, unknown>[]> = {};
beforeAll(async () => {
  want.totals = await duckRows(`SELECT country, count(*)::DOUBLE AS n, sum(amount)::DOUBLE AS amount FROM read_csv('${csv}') GROUP BY country ORDER BY country`);
  want.aggregate = await duckRows(
    `SELECT day::VARCHAR AS day, country, currency, count(*)::INTEGER AS transactions, round(sum(CASE WHEN status = 'settled' THEN amount ELSE 0 END), 2)::DOUBLE AS settled_amount,
       (count(*) FILTER (WHERE status = 'refunded'))::INTEGER AS refunds, count(DISTINCT customer_id)::INTEGER AS customers
     FROM read_csv('${csv}') GROUP BY ALL ORDER BY day, country, currency`,
  );
  expect(want.totals).toHaveLength(3);
  expect(want.aggregate).toHaveLength(18);
});

/** What one run returned, as DuckDB's JSON rows show values (numbers as numbers). */
async function totalsOf(module: string, opts: StageTestOptions): Promise<Record<string, unknown>[]> {
  const result = await runStage(module, batches(), opts);
  const out = result.rows().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  return module === TOTALS ? out.sort((a, b) => String(a.country).localeCompare(String(b.country))) : out;
}

/** [cell, module, its answer, the test kit's options]. */
const CELLS: [string, string, string, StageTestOptions][] = [
  ['module-totals inline x1', TOTALS, 'totals', { mode: 'inline' }],
  ['module-totals inline x2', TOTALS, 'totals', { mode: 'inline', copies: 2 }],
  ['module-totals thread x2', TOTALS, 'totals', { mode: 'thread', copies: 2 }],
  ['module-totals process x1', TOTALS, 'totals', { mode: 'process' }],
  ['the example aggregate inline', AGGREGATE, 'aggregate', { mode: 'inline', options: { reduceRows: 100 } }],
];

it.each(CELLS)('%s: one run, then two at once: each run\'s totals are DuckDB\'s', async (_cell, module, answer, opts) => {
  expect(await totalsOf(module, opts)).toEqual(want[answer]);
  const [second, third] = await Promise.all([totalsOf(module, opts), totalsOf(module, opts)]);
  expect({ second, third }).toEqual({ second: want[answer], third: want[answer] });
});
