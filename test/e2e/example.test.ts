/**
 * The bundled nightly pipeline (`npm start`) runs in all three modes and its daily totals
 * equal an independent polars computation over the same CSV.
 */
import path from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

function expectSameTotals(out: string): void {
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
}

it('computes the same daily totals as polars directly', async () => {
  const out = path.join(tmp, 'totals.parquet');
  // Run from another cwd with the config by absolute path, as a cron job would.
  const r = await runCli(['run', path.join(REPO, 'pipeline.config.ts'), '--quiet', '--sink-path', out], { cwd: tmp });
  expect(r.stderr).not.toMatch(/\berror\b/i);
  expect(r.code).toBe(0);
  expectSameTotals(out);
});

it('computes the same totals when the aggregate reduces and deduplicates its pairs many times', async () => {
  // The example's 20,000 rows hold 18,669 distinct (day, country, currency, customer) pairs,
  // so pairs repeat across reductions: a dedupe that dropped or kept the wrong rows, or a
  // flush that counted the held pairs without deduplicating them, changes `customers`.
  const out = path.join(tmp, 'small-steps.parquet');
  const cfg = path.join(tmp, 'small-steps.config.ts');
  const stage = (name: string) => path.join(REPO, 'stages', `${name}.ts`);
  const config = {
    name: 'example-small-steps',
    source: { format: 'csv', path: path.join(REPO, 'data/transactions.csv'), batchRows: 700 },
    stages: [
      { name: 'clean', module: stage('clean'), mode: 'inline' },
      { name: 'pseudonymise', module: stage('pseudonymise'), mode: 'thread', concurrency: 2, options: { salt: 's', columns: ['customer_id'], drop: ['email'] } },
      { name: 'aggregate', module: stage('aggregate'), mode: 'process', concurrency: 1, options: { reduceRows: 1500, dedupPairs: 2000 } },
    ],
    sink: { format: 'parquet', path: out },
  };
  writeFileSync(cfg, `import { definePipeline } from 'sluice';\nexport default definePipeline(${JSON.stringify(config)} as const);\n`);
  const r = await runCli(['run', cfg, '--log-level', 'info'], { cwd: tmp });
  expect(r.code).toBe(0);
  const logged = (r.stdout + r.stderr)
    .split('\n')
    .filter((line) => line.includes('"aggregated"'))
    .map((line) => JSON.parse(line) as { dedupes: number });
  // ~13 reductions; a dedupe once 2,000 pairs are held and again each time they double.
  expect(logged).toHaveLength(1);
  expect(logged[0].dedupes).toBeGreaterThanOrEqual(3);
  expectSameTotals(out);
});
