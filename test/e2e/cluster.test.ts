/**
 * Cluster mode on a real redis-server and real `sluice worker` processes (no mocks of Redis or
 * BullMQ): `sluice run --cluster local:3` on 12 CSV files into every sink kind at once (one
 * Parquet file, a partitioned Parquet directory, CSV, NDJSON, Arrow: committed together by the
 * commit job) gives the embedded run's output, read back by DuckDB (rows, types, order within
 * each file) and apache-arrow, with `_SUCCESS` and nothing hidden left. A worker SIGKILLed in
 * the middle of a unit: its lock expires, the unit runs again on another worker, the report
 * says so, and the output is still the embedded run's (no row lost or doubled). A bad value in
 * one unit fails the run naming file, line and column, and leaves the previous output as it
 * was; Redis killed mid-run fails the driver loudly, never with exit 0.
 *
 * The two runs that commit and the run with a bad value share one redis-server and three
 * workers started for the file (helpers/cluster-pool.ts; `--cluster <url>`, a run id each), where
 * `--cluster local:N` starts a private server and N workers per run: the run that kills a worker
 * comes after the five-sink run. Workers take `--lock-duration 3s` (the killed unit's lock must
 * expire soon). The failed run leaves none of its jobs in Redis for the shared workers (its
 * driver drops the run: cluster/drop.ts). The run whose Redis is killed stays `--cluster
 * local:2`: it needs a server of its own, and it keeps local mode's own path (it starts, watches
 * and stops its server and workers) in this file.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { Queue } from 'bullmq';
import { runCli } from '../helpers/cli';
import { errorsLogged, runEmbedded } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { startClusterPool, type ClusterPool } from '../helpers/cluster-pool';
import { descendants } from '../helpers/processes';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(600_000);

const ws = workspace('sluice-cluster-');
let pool: ClusterPool | undefined;
afterAll(async () => {
  await pool?.stop();
  ws.cleanup();
});

const FILES = 12;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
for (let i = 1; i <= FILES; i++) {
  const n = String(i).padStart(2, '0');
  // v is fractional in the first file only: its types are the run's (float64) in every unit, as in the embedded run.
  const rows = ['id,name,v', ...Array.from({ length: 30 }, (_, j) => `${i * 100 + j},n${j % 3},${i === 1 ? j + 0.5 : j}`)];
  writeFileSync(path.join(inputs, `f${n}.csv`), rows.join('\n') + '\n');
}

const SINKS = [
  { name: 'pq', format: 'parquet', path: 'all.parquet', rowGroupSize: 1000 },
  { name: 'dir', format: 'parquet', path: 'parts', partitionBy: ['name'] },
  { name: 'csv', format: 'csv', path: 'all.csv' },
  { name: 'nd', format: 'ndjson', path: 'all.ndjson' },
  { name: 'ar', format: 'arrow', path: 'all.arrow' },
] as const;

function config(caseName: string, opts: { sinks?: readonly (typeof SINKS)[number][]; stage?: unknown; source?: string } = {}): { dir: string; file: string } {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir, { recursive: true });
  const file = ws.config(
    {
      name: 'cluster',
      source: { format: 'csv', path: opts.source ?? path.join(inputs, '*.csv'), batchRows: 10 },
      stages: [opts.stage ?? { name: 'same', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'inline' }],
      sinks: (opts.sinks ?? SINKS).map((s) => ({ ...s, path: path.join(dir, 'out', s.path) })),
    },
    `${caseName}.config.ts`,
  );
  return { dir, file };
}

/** Every entry under `dir` whose name starts with a dot (a temporary, a lock, a staging area). */
function hidden(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((p) => p.split(path.sep).some((part) => part.startsWith('.')));
}

async function parquetRows(file: string): Promise<{ types: unknown[]; rows: unknown[] }> {
  const types = await duckRows(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
  const rows = await duckRows(`SELECT * FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`);
  return { types: types.map((t) => [t.column_name, t.column_type]), rows };
}

/** A partitioned output: each file (named without its run id) → its rows in file order and types. */
async function partitions(dir: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const rel of readdirSync(dir, { recursive: true }).map(String).filter((p) => p.endsWith('.parquet')).sort()) {
    out.set(rel.replace(/part-(\d+)-[^.]+\.parquet$/, 'part-$1.parquet'), await parquetRows(path.join(dir, rel)));
  }
  return out;
}

async function expectSameOutputs(embedded: string, cluster: string, sinks: readonly (typeof SINKS)[number][]): Promise<void> {
  for (const s of sinks) {
    const a = path.join(embedded, 'out', s.path);
    const b = path.join(cluster, 'out', s.path);
    if (s.name === 'dir') {
      const [pa, pb] = [await partitions(a), await partitions(b)];
      expect([...pb.keys()]).toEqual([...pa.keys()]);
      expect(pb).toEqual(pa);
      expect(existsSync(path.join(b, '_SUCCESS'))).toBe(true);
    } else if (s.format === 'parquet') {
      const [ra, rb] = [await parquetRows(a), await parquetRows(b)];
      expect(rb.rows).toHaveLength(FILES * 30);
      expect(rb).toEqual(ra);
    } else if (s.format === 'arrow') {
      const [ta, tb] = [tableFromIPC(readFileSync(a)), tableFromIPC(readFileSync(b))];
      expect(tb.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(ta.schema.fields.map((f) => `${f.name}:${f.type}`));
      const json = (t: typeof ta) => JSON.stringify(t.toArray(), (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
      expect(tb.numRows).toBe(FILES * 30);
      expect(json(tb)).toEqual(json(ta));
    } else {
      // Text outputs: the units' parts concatenated in unit order are the embedded run's bytes.
      expect(readFileSync(b, 'utf8')).toEqual(readFileSync(a, 'utf8'));
      const reader = s.format === 'csv' ? 'read_csv' : 'read_json';
      expect(await duckRows(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM ${reader}('${b}')`)).toEqual([{ n: FILES * 30, ids: FILES * 30 }]);
    }
  }
}

interface Report {
  ok: boolean;
  runId: string;
  rows: number;
  units: { unit: number; file: string; rows: number; attempts: number; worker: string }[];
  sinks: { name: string; rows: number; files: string[] }[];
}

const embedded = config('embedded');
beforeAll(async () => {
  // The reference run in this process (its output is what is compared, not the command's).
  const [r, p] = await Promise.all([runEmbedded(embedded.file), startClusterPool(3, ['--lock-duration', '3s'])]);
  pool = p;
  expect({ error: r.error, errorsLogged: errorsLogged(r.logs) }).toEqual({ error: undefined, errorsLogged: [] });
});

it('--cluster with 3 workers on 12 CSV files into five sinks commits the embedded run\'s output, _SUCCESS, nothing hidden left', async () => {
  const c = config('local3');
  const report = path.join(c.dir, 'report.json');
  const r = await runCli(['run', c.file, '--cluster', pool!.url, '--run-id', 'five-sinks', '--report', report, '--log-level', 'warn'], { timeoutMs: 300_000 });
  expect(r.stderr).toContain(`committed on ${pool!.url}: 12 units, 360 rows read`);
  expect(r.code).toBe(0);
  await expectSameOutputs(embedded.dir, c.dir, SINKS);
  expect(hidden(c.dir)).toEqual([]);
  const rep = JSON.parse(readFileSync(report, 'utf8')) as Report;
  expect(rep).toMatchObject({ ok: true, runId: 'five-sinks', rows: 360 });
  expect(rep.units.map((u) => [u.unit, path.basename(u.file), u.rows])).toEqual(Array.from({ length: FILES }, (_, i) => [i, `f${String(i + 1).padStart(2, '0')}.csv`, 30]));
  expect(rep.sinks.map((s) => [s.name, s.rows])).toEqual(SINKS.map((s) => [s.name, 360]));
});

it('a worker SIGKILLed in the middle of a unit: the unit runs again on another worker once its lock expires; the report shows it; output equal, no row lost or doubled', async () => {
  const marker = path.join(ws.dir, 'killed-once');
  // Inline, so the stage's SIGKILL kills the worker process itself, in the middle of unit 4 (file f05, its first batch).
  const c = config('killed', { sinks: SINKS.slice(0, 2), stage: { name: 'same', module: path.join(FIXTURE_STAGES, 'fault-once.ts'), mode: 'inline', options: { firstId: 500, how: 'sigkill', marker } } });
  const report = path.join(c.dir, 'report.json');
  // Three live workers (the pool's, or more if one died before): the killed one's unit goes to another.
  if (pool!.live() < 3) pool!.add(3 - pool!.live());
  const r = await runCli(['run', c.file, '--cluster', pool!.url, '--lock-duration', '3s', '--report', report, '--log-level', 'warn'], { timeoutMs: 300_000 });
  expect(r.code).toBe(0);
  expect(existsSync(marker)).toBe(true);
  expect(pool!.live()).toBe(2);
  const rep = JSON.parse(readFileSync(report, 'utf8')) as Report;
  // Unit 4 ran again; on a loaded machine a worker busy past the 3 s lock may lose another unit's lock too, which then also runs again (and only the attempt holding the lock is committed).
  expect(rep.units.filter((u) => u.attempts > 1).map((u) => u.unit)).toContain(4);
  expect(r.stderr).toMatch(/unit 4 \(.*f05\.csv\) ran 2 times/);
  await expectSameOutputs(embedded.dir, c.dir, SINKS.slice(0, 2));
  expect(hidden(c.dir)).toEqual([]);
});

it('a bad value in one unit with onError "fail": the run fails naming file, line and column; the previous output is untouched, nothing hidden is left, no job of the run is left in Redis', async () => {
  const bad = path.join(ws.dir, 'in-bad');
  mkdirSync(bad);
  for (const f of readdirSync(inputs)) copyFileSync(path.join(inputs, f), path.join(bad, f));
  const lines = readFileSync(path.join(bad, 'f07.csv'), 'utf8').split('\n');
  lines[5] = '704,n1,seven'; // line 6 of the file: v is float64 (fixed by f01)
  writeFileSync(path.join(bad, 'f07.csv'), lines.join('\n'));
  const c = config('bad', { sinks: SINKS.slice(0, 1), source: path.join(bad, '*.csv') });
  mkdirSync(path.join(c.dir, 'out'));
  writeFileSync(path.join(c.dir, 'out', 'all.parquet'), 'the previous output');
  const r = await runCli(['run', c.file, '--cluster', pool!.url, '--run-id', 'bad', '--log-level', 'warn'], { timeoutMs: 300_000 });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/unit 6 \(.*f07\.csv\) failed after 1 attempt\(s\): .*f07\.csv, line 6, column "v"/);
  expect(r.stderr).toContain('nothing was committed, the previous output is untouched');
  // Nothing of the failed run is left in Redis for the shared workers to take (BullMQ's Queue API).
  const queue = new Queue('sluice', { connection: { path: pool!.url.slice('unix://'.length) } });
  try {
    const left = await queue.getJobs(['active', 'waiting', 'waiting-children', 'delayed', 'prioritized', 'paused', 'completed', 'failed']);
    expect(left.filter((j) => j?.id?.startsWith('bad-')).map((j) => j.id)).toEqual([]);
  } finally {
    await queue.close();
  }
  expect(readFileSync(path.join(c.dir, 'out', 'all.parquet'), 'utf8')).toBe('the previous output');
  expect(hidden(c.dir)).toEqual([]);
});

it('Redis killed mid-run: the driver fails loudly, never exit 0, and publishes nothing', async () => {
  const c = config('redis-killed', { sinks: SINKS.slice(0, 1) });
  let killed = false;
  const r = await runCli(['run', c.file, '--cluster', 'local:2', '--log-level', 'warn'], {
    timeoutMs: 300_000,
    onSpawn: (child) => {
      // Once the first unit is done: the run is under way, and far from its commit.
      child.stderr!.on('data', (d: Buffer) => {
        if (killed || !String(d).includes('unit 1/12 done')) return;
        const redis = descendants(child.pid!).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server'));
        if (redis !== undefined) {
          process.kill(redis, 'SIGKILL');
          killed = true;
        }
      });
    },
  });
  expect(killed).toBe(true);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/redis-server .* exited \(SIGKILL\) while the run was going on; nothing was committed|lost Redis/);
  expect(existsSync(path.join(c.dir, 'out', 'all.parquet'))).toBe(false);
  expect(existsSync(path.join(c.dir, 'out')) ? hidden(c.dir) : []).toEqual([]);
});
