/**
 * A stateful stage in cluster mode (runtime/unit-cut.ts, as a resumable run): the example
 * nightly job (clean inline → pseudonymise thread × 2 → the daily aggregate in a child
 * process, its totals to Parquet), plus the pseudonymised rows to NDJSON straight from the
 * stage before the aggregate, with `--cluster local:2` over 6 files (customers recur across
 * files, so a group's totals span units). The workers run the head per unit and stage the
 * aggregate's input; the commit job runs the aggregate over every unit's, in unit order. The
 * outputs equal the embedded run's: the totals as DuckDB reads them (and byte for byte), the
 * rows byte for byte; nothing hidden left.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, runCli } from '../helpers/cli';
import { errorsLogged, runEmbedded } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { workspace } from '../helpers/workspace';

jest.setTimeout(300_000);

const ws = workspace('sluice-cluster-stateful-');
afterAll(() => ws.cleanup());

const FILES = 6;
const ROWS = 80;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
const COUNTRIES = ['SE', ' de', 'FR'];
const STATUS = ['settled', 'settled', 'refunded', 'test'];
for (let i = 1; i <= FILES; i++) {
  const lines = ['txn_id,ts,customer_id,email,merchant,country,amount,currency,status,note'];
  for (let j = 0; j < ROWS; j++) {
    const id = i * 1000 + j;
    const customer = String((id * 7) % 53).padStart(8, '0');
    lines.push(`${id},2026-11-${String(1 + (id % 5)).padStart(2, '0')} 10:${String(j % 60).padStart(2, '0')}:00,${customer},c${customer}@example.com,M${j % 4},${COUNTRIES[id % 3]},${(id % 997) / 4},${id % 2 ? 'EUR' : 'SEK'},${STATUS[id % 4]},n`);
  }
  writeFileSync(path.join(inputs, `t${i}.csv`), lines.join('\n') + '\n');
}

function setup(caseName: string): { dir: string; config: string } {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir);
  const config = ws.config(
    {
      name: 'nightly-cluster',
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 40, schema: { customer_id: 'utf8' } },
      stages: [
        { name: 'clean', module: path.join(REPO, 'stages/clean.ts'), mode: 'inline' },
        { name: 'pseudonymise', module: path.join(REPO, 'stages/pseudonymise.ts'), mode: 'thread', concurrency: 2, options: { salt: 's', columns: ['customer_id'], drop: ['email'] } },
        { name: 'aggregate', module: path.join(REPO, 'stages/aggregate.ts'), mode: 'process', concurrency: 1 },
      ],
      sinks: [
        { name: 'totals', from: 'aggregate', format: 'parquet', path: path.join(dir, 'out/totals.parquet') },
        { name: 'rows', from: 'pseudonymise', format: 'ndjson', path: path.join(dir, 'out/rows.ndjson') },
      ],
    },
    `${caseName}.config.ts`,
  );
  return { dir, config };
}

const totals = (dir: string) => duckRows(`SELECT * FROM read_parquet('${path.join(dir, 'out/totals.parquet')}', file_row_number = true) ORDER BY file_row_number`);
const hidden = (dir: string) => readdirSync(dir, { recursive: true }).map(String).filter((p) => p.split(path.sep).some((part) => part.startsWith('.')));

it('the example job\'s daily aggregate with --cluster local:2 over 6 files: the totals and rows of the embedded run, nothing hidden left', async () => {
  const embedded = setup('embedded');
  const cluster = setup('cluster');
  const report = path.join(cluster.dir, 'report.json');
  // At once: independent runs, and the cluster run spends much of its time waiting on its workers and Redis.
  const [e, c] = await Promise.all([
    runEmbedded(embedded.config), // the reference, in this process
    runCli(['run', cluster.config, '--cluster', 'local:2', '--report', report, '--log-level', 'warn'], { timeoutMs: 240_000 }),
  ]);
  expect({ error: e.error, errorsLogged: errorsLogged(e.logs) }).toEqual({ error: undefined, errorsLogged: [] });
  expect(c.stderr).toContain(`committed on local:2: ${FILES} units, ${FILES * ROWS} rows read`);
  expect(c.code).toBe(0);
  const want = await totals(embedded.dir);
  expect(want.length).toBeGreaterThan(0);
  expect(await totals(cluster.dir)).toEqual(want);
  expect(readFileSync(path.join(cluster.dir, 'out/totals.parquet'))).toEqual(readFileSync(path.join(embedded.dir, 'out/totals.parquet')));
  expect(readFileSync(path.join(cluster.dir, 'out/rows.ndjson'), 'utf8')).toEqual(readFileSync(path.join(embedded.dir, 'out/rows.ndjson'), 'utf8'));
  const rep = JSON.parse(readFileSync(report, 'utf8')) as { sinks: { name: string; rows: number }[] };
  expect(rep.sinks.map((s) => s.name)).toEqual(['totals', 'rows']);
  expect(hidden(cluster.dir)).toEqual([]);
});
