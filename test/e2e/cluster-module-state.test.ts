/**
 * A cluster worker is one long-lived process running unit after unit and run after run: two
 * cluster runs, one after the other, on one worker (helpers/cluster-pool.ts), with stages that
 * keep their state in module-level variables (the example `stages/aggregate.ts` inline;
 * test/fixtures/stages/module-totals.ts inline with 2 copies). Their stages with flush() run
 * in each run's commit job, on that worker: the second run's totals are DuckDB's over the input,
 * as the first's are. Before each run's copies had their own module instance (src/worker/fresh.ts),
 * the second run started from the first run's sums. The other entries: test/e2e/module-state.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, runCli } from '../helpers/cli';
import { startClusterPool, type ClusterPool } from '../helpers/cluster-pool';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(240_000);

const ws = workspace('sluice-cluster-state-');
let pool: ClusterPool | undefined;
afterAll(async () => {
  await pool?.stop();
  ws.cleanup();
});

const FILES = 3;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
const COUNTRIES = ['SE', 'DE', 'FR'];
const STATUS = ['settled', 'settled', 'refunded', 'test'];
for (let f = 0; f < FILES; f++) {
  const lines = ['txn_id,day,country,currency,customer_id,status,amount'];
  for (let j = 0; j < 60; j++) {
    const i = f * 60 + j;
    lines.push(`${i},2026-11-0${1 + (i % 3)},${COUNTRIES[Math.floor(i / 5) % 3]},${i % 2 ? 'EUR' : 'SEK'},c${(i * 13) % 41},${STATUS[i % 4]},${(i % 97) / 4}`);
  }
  writeFileSync(path.join(inputs, `t${f}.csv`), lines.join('\n') + '\n');
}
const glob = path.join(inputs, '*.csv');

function config(tag: string): string {
  return ws.config(
    {
      name: `cluster-state-${tag}`,
      source: { format: 'csv', path: glob, batchRows: 25 },
      stages: [
        { name: 'agg', module: path.join(REPO, 'stages/aggregate.ts'), mode: 'inline', input: 'source', options: { reduceRows: 50 } },
        { name: 'i2', module: path.join(FIXTURE_STAGES, 'module-totals.ts'), mode: 'inline', concurrency: 2, input: 'source' },
      ],
      sinks: [
        { name: 'agg', from: 'agg', format: 'parquet', path: path.join(ws.dir, `out-${tag}`, 'agg.parquet') },
        { name: 'i2', from: 'i2', format: 'parquet', path: path.join(ws.dir, `out-${tag}`, 'i2.parquet') },
      ],
    },
    `${tag}.config.ts`,
  );
}

const AGG = (from: string) => `SELECT day::VARCHAR AS day, country, currency, transactions::INTEGER AS transactions, settled_amount::DOUBLE AS settled_amount, refunds::INTEGER AS refunds, customers::INTEGER AS customers FROM ${from} ORDER BY day, country, currency`;
const TOTALS = (from: string) => `SELECT country, n::BIGINT AS n, amount::DOUBLE AS amount FROM ${from} ORDER BY country`;

it('two cluster runs on one worker: the second run\'s totals are DuckDB\'s, as the first\'s', async () => {
  const want = {
    agg: await duckRows(
      AGG(`(SELECT day, country, currency, count(*) AS transactions, round(sum(CASE WHEN status = 'settled' THEN amount ELSE 0 END), 2) AS settled_amount,
        count(*) FILTER (WHERE status = 'refunded') AS refunds, count(DISTINCT customer_id) AS customers FROM read_csv('${glob}') GROUP BY ALL)`),
    ),
    i2: await duckRows(TOTALS(`(SELECT country, count(*) AS n, sum(amount) AS amount FROM read_csv('${glob}') GROUP BY country)`)),
  };
  expect(want.agg).toHaveLength(18);
  pool = await startClusterPool(1);
  for (const tag of ['first', 'second']) {
    const r = await runCli(['run', config(tag), '--cluster', pool.url, '--run-id', `state-${tag}`, '--log-level', 'error'], { timeoutMs: 120_000 });
    expect({ tag, code: r.code, said: r.stdout + r.stderr }).toEqual({ tag, code: 0, said: expect.stringContaining(`committed on ${pool.url}: ${FILES} units`) });
    const out = (name: string) => `read_parquet('${path.join(ws.dir, `out-${tag}`, `${name}.parquet`)}')`;
    expect({ tag, agg: await duckRows(AGG(out('agg'))), i2: await duckRows(TOTALS(out('i2'))) }).toEqual({ tag, ...want });
  }
});
