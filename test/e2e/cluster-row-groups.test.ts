/**
 * Cluster mode over one big Parquet file (issue 27's "one multi-row-group Parquet", beside
 * cluster.test.ts's 12 CSV files: a source has one format): 6 row groups of 2048 rows (written
 * by DuckDB) cut by `source.unitRows: 4096` into 3 units of 2 row groups each, so
 * `--cluster local:3` queues one job per range, not one for the file. The committed output, a
 * single Parquet file and a partitioned directory, holds the embedded run's rows in the same
 * order with the same types (read back by DuckDB), with `_SUCCESS` and nothing hidden left; the
 * report names the three ranges, one unit each, with their rows. Which worker takes which job is
 * BullMQ's choice, so the test asserts the jobs, not the workers.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { errorsLogged, runEmbedded } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(300_000);

const ws = workspace('sluice-cluster-rg-');
afterAll(() => ws.cleanup());

const GROUP = 2048;
const GROUPS = 6;
const input = path.join(ws.dir, 'in', 'big.parquet');
mkdirSync(path.dirname(input));

function config(caseName: string): { dir: string; file: string } {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir, { recursive: true });
  const file = ws.config(
    {
      name: 'cluster-rg',
      source: { format: 'parquet', path: input, batchRows: 1000, unitRows: 2 * GROUP },
      stages: [{ name: 'same', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'inline' }],
      sinks: [
        { name: 'pq', format: 'parquet', path: path.join(dir, 'out', 'all.parquet') },
        { name: 'dir', format: 'parquet', path: path.join(dir, 'out', 'parts'), partitionBy: ['name'] },
      ],
    },
    `${caseName}.config.ts`,
  );
  return { dir, file };
}

const ordered = (glob: string) => duckRows(`select * exclude (filename) from read_parquet('${glob}', file_row_number = true, filename = true) order by filename, file_row_number`);
const types = (glob: string) => duckRows(`describe select * from read_parquet('${glob}')`);

beforeAll(async () => {
  await duckRows(`copy (select i::bigint as id, 'n' || (i % 3)::varchar as name, (i * 0.5)::double as x from range(${GROUP * GROUPS}) t(i)) to '${input}' (format parquet, row_group_size ${GROUP})`);
});

it('--cluster local:3 on a Parquet file of 6 row groups: 3 range units, the embedded run\'s rows and types, _SUCCESS, nothing hidden left', async () => {
  const embedded = config('embedded');
  const c = config('local3');
  const report = path.join(c.dir, 'report.json');
  // At once: independent runs, and the cluster run spends much of its time waiting on its workers and Redis.
  const [e, r] = await Promise.all([
    runEmbedded(embedded.file), // the reference, in this process
    runCli(['run', c.file, '--cluster', 'local:3', '--run-id', 'ranges', '--report', report, '--log-level', 'warn'], { timeoutMs: 240_000 }),
  ]);
  expect({ error: e.error, errorsLogged: errorsLogged(e.logs) }).toEqual({ error: undefined, errorsLogged: [] });
  expect(r.stderr).toContain(`committed on local:3: 3 units, ${GROUP * GROUPS} rows read`);
  expect(r.code).toBe(0);
  const rep = JSON.parse(readFileSync(report, 'utf8')) as { units: { unit: number; file: string; groups?: number[]; rows: number }[] };
  expect(rep.units.map((u) => [u.unit, u.file, u.groups, u.rows])).toEqual([
    [0, input, [0, 1], 2 * GROUP],
    [1, input, [2, 3], 2 * GROUP],
    [2, input, [4, 5], 2 * GROUP],
  ]);
  for (const glob of ['all.parquet', 'parts/**/*.parquet']) {
    const [a, b] = [path.join(embedded.dir, 'out', glob), path.join(c.dir, 'out', glob)];
    expect(await types(b)).toEqual(await types(a));
    const rows = await ordered(b);
    expect(rows).toHaveLength(GROUP * GROUPS);
    // Partition files are named by run id: compared in the same order, without their names.
    expect(rows).toEqual(await ordered(a));
  }
  expect(readdirSync(path.join(c.dir, 'out', 'parts'))).toContain('_SUCCESS');
  expect(readdirSync(c.dir, { recursive: true }).map(String).filter((p) => p.split(path.sep).some((part) => part.startsWith('.')))).toEqual([]);
});
