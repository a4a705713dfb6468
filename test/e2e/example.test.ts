/**
 * The bundled nightly pipeline (`npm start`) runs in all three modes and its daily totals
 * equal an independent polars computation over the same CSV.
 */
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import pl from 'nodejs-polars';
import { REPO, runCli } from '../helpers/cli';

let tmp: string;
beforeAll(() => (tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-example-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectedTotals(): Record<string, unknown>[] {
  const df = pl.readCSV(path.join(REPO, 'data/transactions.csv'), { inferSchemaLength: 0, ignoreErrors: false });
  return df
    .filter(pl.col('status').neq(pl.lit('test')))
    .withColumns(pl.col('country').str.strip().str.toUpperCase().alias('country'), pl.col('ts').str.slice(0, 10).alias('day'))
    .groupBy(['day', 'country', 'currency'])
    .agg(
      pl.len().cast(pl.Int32).alias('transactions'),
      pl.col('amount').cast(pl.Float64).filter(pl.col('status').eq(pl.lit('settled'))).sum().alias('settled_amount'),
      pl.col('status').eq(pl.lit('refunded')).cast(pl.Int32).sum().alias('refunds'),
      pl.col('customer_id').nUnique().cast(pl.Int32).alias('customers'),
    )
    .sort(['day', 'country', 'currency'])
    .toRecords() as Record<string, unknown>[];
}

it('computes the same daily totals as polars directly', async () => {
  const out = path.join(tmp, 'totals.parquet');
  // Run from another cwd with the config by absolute path, as a cron job would.
  const r = await runCli(['run', path.join(REPO, 'pipeline.config.ts'), '--quiet', '--sink-path', out], { cwd: tmp });
  expect(r.stderr).not.toMatch(/\berror\b/i);
  expect(r.code).toBe(0);
  const got = pl.readParquet(out).sort(['day', 'country', 'currency']).toRecords() as Record<string, any>[];
  const want = expectedTotals();
  expect(got.length).toBe(want.length);
  expect(got.length).toBeGreaterThan(50);
  got.forEach((row, i) => {
    const w = want[i] as Record<string, any>;
    expect(String(row.day).slice(0, 10)).toBe(w.day);
    expect([row.country, row.currency, row.transactions, row.refunds, row.customers]).toEqual([w.country, w.currency, w.transactions, w.refunds, w.customers]);
    expect(row.settled_amount).toBeCloseTo(w.settled_amount, 6);
  });
});
