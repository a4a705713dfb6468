/**
 * Two runs in one process never share a stage's state, nor do two copies of one run
 * (src/worker/fresh.ts). The stages keep their state in module-level variables, the way a
 * newcomer writes them: the example `stages/aggregate.ts` (its running sums, no reset in
 * flush) and test/fixtures/stages/module-totals.ts (totals per country, with `combine`).
 *
 * The matrix: mode × entry. The modes are branches of one graph, each from the source to a
 * sink of its own, so one run serves every mode: the example aggregate inline; module-totals
 * inline with 1 copy and with 2, thread with 2, process with 1. The entries: a CLI run; a Node
 * program embedding run() (one run, then two at once: test/fixtures/scripts/module-state-runs.cjs);
 * run() inside jest (the same three runs, as a user's jest test or our in-process tests run
 * them; inline branches only, see there).
 * Every output equals DuckDB's answer over the input. The test kit (sluice/testing) is
 * test/unit/testing/module-state.test.ts; a cluster worker running two runs is
 * test/e2e/cluster-module-state.test.ts.
 *
 * Before the fix, an inline stage's module was loaded once per process: the second and third
 * runs' aggregate started from the first run's sums, and the inline branches of module-totals
 * (three copies of one module) each flushed all three copies' totals, in every entry.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, runCli, runNode } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { runEmbeddedOk } from '../helpers/embedded-run';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

const ws = workspace('sluice-module-state-');
afterAll(() => ws.cleanup());

const ROWS = 400;
const csv = path.join(ws.dir, 'in.csv');
const COUNTRIES = ['SE', 'DE', 'FR'];
const CURRENCIES = ['EUR', 'SEK'];
const STATUS = ['settled', 'settled', 'refunded', 'test'];
writeFileSync(
  csv,
  ['txn_id,day,country,currency,customer_id,status,amount', ...Array.from({ length: ROWS }, (_, i) => `${i},2026-11-0${1 + (i % 3)},${COUNTRIES[Math.floor(i / 5) % 3]},${CURRENCIES[i % 2]},c${(i * 13) % 41},${STATUS[i % 4]},${(i % 97) / 4}`)].join('\n') + '\n',
);

const TOTALS = path.join(FIXTURE_STAGES, 'module-totals.ts');
/** Each mode's branch of module-totals: [name, mode, copies]. */
const MODES = [
  ['i1', 'inline', 1],
  ['i2', 'inline', 2],
  ['t2', 'thread', 2],
  ['p1', 'process', 1],
] as const;

type Branch = (typeof MODES)[number];
const INLINE = MODES.filter(([, mode]) => mode === 'inline');

/** The config of one run with the aggregate and `branches`, writing to `out-<tag>/` (CSV: no encoder threads). */
function config(tag: string, branches: readonly Branch[] = MODES): string {
  const out = (name: string) => path.join(ws.dir, `out-${tag}`, `${name}.csv`);
  return ws.config(
    {
      name: `module-state-${tag}`,
      source: { format: 'csv', path: csv, batchRows: 40 },
      stages: [
        // reduceRows: its running sums are merged several times a run (module state across batches).
        { name: 'agg', module: path.join(REPO, 'stages/aggregate.ts'), mode: 'inline', input: 'source', options: { reduceRows: 100 } },
        ...branches.map(([name, mode, copies]) => ({ name, module: TOTALS, mode, concurrency: copies, input: 'source' })),
      ],
      sinks: ['agg', ...branches.map(([name]) => name)].map((name) => ({ name, from: name, format: 'csv', path: out(name) })),
    },
    `${tag}.config.ts`,
  );
}

const TOTALS_SQL = (from: string) => `SELECT country, n::BIGINT AS n, amount::DOUBLE AS amount FROM ${from} ORDER BY country`;
const AGG_SQL = (file: string) =>
  `SELECT day::VARCHAR AS day, country, currency, transactions::INTEGER AS transactions, settled_amount::DOUBLE AS settled_amount, refunds::INTEGER AS refunds, customers::INTEGER AS customers FROM read_csv('${file}') ORDER BY day, country, currency`;

/** DuckDB's answer over the input, in the shape of a run's outputs (every branch). */
async function expected(): Promise<Record<string, unknown>> {
  const totals = await duckRows(TOTALS_SQL(`(SELECT country, count(*) AS n, sum(amount) AS amount FROM read_csv('${csv}') GROUP BY country)`));
  const agg = await duckRows(
    `SELECT day::VARCHAR AS day, country, currency, count(*)::INTEGER AS transactions, round(sum(CASE WHEN status = 'settled' THEN amount ELSE 0 END), 2)::DOUBLE AS settled_amount,
       (count(*) FILTER (WHERE status = 'refunded'))::INTEGER AS refunds, count(DISTINCT customer_id)::INTEGER AS customers
     FROM read_csv('${csv}') GROUP BY ALL ORDER BY day, country, currency`,
  );
  return { agg, ...Object.fromEntries(MODES.map(([name]) => [name, totals])) };
}

/** One run's outputs as DuckDB reads them. */
async function outputs(tag: string, branches: readonly Branch[] = MODES): Promise<Record<string, unknown>> {
  const file = (name: string) => path.join(ws.dir, `out-${tag}`, `${name}.csv`);
  const out: Record<string, unknown> = { agg: await duckRows(AGG_SQL(file('agg'))) };
  for (const [name] of branches) out[name] = await duckRows(TOTALS_SQL(`read_csv('${file(name)}')`));
  return out;
}

/** `want` for the aggregate and `branches` only. */
const wantOf = (branches: readonly Branch[]) => Object.fromEntries(['agg', ...branches.map(([name]) => name)].map((name) => [name, want[name]]));

let want: Record<string, unknown>;
beforeAll(async () => {
  want = await expected();
  // A sanity check of the reference itself: 3 days × 3 countries × 2 currencies, every country's rows.
  expect((want.agg as unknown[]).length).toBe(18);
  expect(want.i1).toHaveLength(3);
});

it('a CLI run, and a Node program running run() once, then twice at once: every mode\'s totals are DuckDB\'s', async () => {
  const [cli, program] = await Promise.all([
    runCli(['run', config('cli'), '--quiet', '--log-level', 'error'], { timeoutMs: 120_000 }),
    runNode([path.join(REPO, 'test/fixtures/scripts/module-state-runs.cjs'), config('node-1'), config('node-2'), config('node-3')], { timeoutMs: 120_000 }),
  ]);
  expect(cli.stderr).toBe('');
  expect(cli.code).toBe(0);
  expect({ stdout: program.stdout.trim(), stderr: program.stderr }).toEqual({ stdout: 'ok', stderr: '' });
  for (const tag of ['cli', 'node-1', 'node-2', 'node-3']) expect({ tag, ...(await outputs(tag)) }).toEqual({ tag, ...want });
}, 240_000);

// The inline branches only: thread and process copies under jest are the executors the Node
// program above starts (and the test kit's, test/unit/testing/module-state.test.ts); what differs
// inside jest is how an inline copy gets a fresh instance (jest's module registry).
it('run() inside jest: one run, then two at once: the inline branches\' totals are DuckDB\'s', async () => {
  await runEmbeddedOk(config('jest-1', INLINE));
  await Promise.all([runEmbeddedOk(config('jest-2', INLINE)), runEmbeddedOk(config('jest-3', INLINE))]);
  for (const tag of ['jest-1', 'jest-2', 'jest-3']) expect({ tag, ...(await outputs(tag, INLINE)) }).toEqual({ tag, ...wantOf(INLINE) });
}, 240_000);
