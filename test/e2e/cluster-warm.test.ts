/**
 * Warm workers, and the merged report of a cluster run, on a real redis-server and real
 * `sluice worker` processes: one `--cluster local:2` run of 6 units (two probe stages, thread and
 * process, that stamp each row with the thread id / pid that ran it and how many times `setup`
 * ran there) serves every assertion, beside one embedded run of the same pipeline.
 *
 * - Reuse, structurally: the units a worker ran share their copies (the same thread id and
 *   pid across units), and `setup` ran once in every copy; started cold, every unit would
 *   have had copies of its own (6 thread ids).
 * - A failed unit does not poison the next: the thread probe throws once, in unit 3's first
 *   attempt; that unit runs again (2 attempts in the report) on copies started afresh (setup
 *   once in them too), and the run commits the embedded run's rows.
 * - The report (--report JSON and HTML, --metrics) has every unit with its worker and
 *   attempts, per-worker figures, and rows equal to the embedded run's (read back by DuckDB).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { errorsLogged, runEmbedded } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';
import { renderClusterHtml } from '../../src/cli/report-html/cluster-page';
import type { ClusterReport } from '../../src/cluster/driver';

jest.setTimeout(300_000);

const ws = workspace('sluice-cluster-warm-');
afterAll(() => ws.cleanup());

const UNITS = 6;
const FAIL_UNIT = 3;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
for (let i = 0; i < UNITS; i++) {
  const rows = ['id,name,v', ...Array.from({ length: 30 }, (_, j) => `${i * 100 + j},n${j % 3},${j + 0.5}`)];
  writeFileSync(path.join(inputs, `f${i}.csv`), rows.join('\n') + '\n');
}

function config(name: string, failId?: number): { dir: string; file: string; out: string } {
  const dir = path.join(ws.dir, name);
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'out', 'all.parquet');
  const probe = path.join(FIXTURE_STAGES, 'warm-probe.ts');
  const file = ws.config(
    {
      name: 'warm',
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 10 },
      stages: [
        { name: 'th', module: probe, mode: 'thread', concurrency: 1, options: { tag: 'th', ...(failId !== undefined && { failId, marker: path.join(dir, 'failed-once') }) } },
        { name: 'pr', module: probe, mode: 'process', concurrency: 1, options: { tag: 'pr' } },
      ],
      sink: { format: 'parquet', path: out },
    },
    `${name}.config.ts`,
  );
  return { dir, file, out };
}

interface Unit {
  unit: number;
  file: string;
  rows: number;
  worker: string;
  attempts: number;
  warm?: boolean;
  startupMs?: number;
  cpuMs?: number;
}
interface Report {
  ok: boolean;
  rows: number;
  units: Unit[];
  workers: { worker: string; units: number; rows: number; warmUnits: number }[];
}

type Row = { id: number; name: string; v: number; th_tid: number; th_pid: number; th_setups: number; pr_pid: number; pr_setups: number; filename: string };

let report: Report;
let rows: Row[];
let embeddedRows: unknown[];
let embeddedSourceRows: number;
let html: string;
let metrics: string;

beforeAll(async () => {
  const emb = config('embedded');
  const cl = config('cluster', FAIL_UNIT * 100 + 10); // the second batch of unit 3
  const files = { json: path.join(cl.dir, 'report.json'), prom: path.join(cl.dir, 'run.prom') };
  const [e, c] = await Promise.all([
    runEmbedded(emb.file), // the reference, in this process: its rows and its report are what is compared
    runCli(['run', cl.file, '--cluster', 'local:2', '--run-id', 'warm', '--report', files.json, '--metrics', files.prom, '--log-level', 'warn'], { timeoutMs: 240_000 }),
  ]);
  expect({ error: e.error, errorsLogged: errorsLogged(e.logs) }).toEqual({ error: undefined, errorsLogged: [] });
  expect(c.code).toBe(0);
  report = JSON.parse(readFileSync(files.json, 'utf8')) as Report;
  embeddedSourceRows = e.report!.source.rows;
  metrics = readFileSync(files.prom, 'utf8');
  // `--report x.html` writes this page of the same report (cli/cluster.ts writeReport): rendered here, one CLI run fewer.
  html = renderClusterHtml(report as unknown as ClusterReport);
  rows = (await duckRows(`SELECT * FROM read_parquet('${cl.out}', file_row_number = true) ORDER BY file_row_number`)) as Row[];
  embeddedRows = await duckRows(`SELECT id, name, v FROM read_parquet('${emb.out}', file_row_number = true) ORDER BY file_row_number`);
});

/** The unit a row came from: ids are unit × 100 + row. */
const unitOf = (r: Row) => Math.floor(Number(r.id) / 100);

it('the output is the embedded run\'s rows, in order (DuckDB), and the report counts as many', () => {
  expect(rows.map((r) => ({ id: r.id, name: r.name, v: r.v }))).toEqual(embeddedRows);
  expect(report.ok).toBe(true);
  expect(report.rows).toBe(embeddedSourceRows);
  expect(report.rows).toBe(UNITS * 30);
});

it('setup ran once in every copy, and the units a worker ran share its copies (thread ids, pids) across units', () => {
  expect(new Set(rows.map((r) => Number(r.th_setups)))).toEqual(new Set([1]));
  expect(new Set(rows.map((r) => Number(r.pr_setups)))).toEqual(new Set([1]));
  const tidsOf = new Map<number, Set<number>>();
  for (const r of rows) (tidsOf.get(unitOf(r)) ?? tidsOf.set(unitOf(r), new Set()).get(unitOf(r))!).add(Number(r.th_tid));
  // Each unit's rows ran on one copy of each stage.
  for (const tids of tidsOf.values()) expect(tids.size).toBe(1);
  // Cold, each of the 6 units (and the failed one's retry) has its own thread and child: 7 or
  // more. Warm: one set per worker, one more after the failure, and one more whenever a worker
  // found the queue empty for a moment (idle sets go then, by design: how often is timing), so
  // the bound is "fewer copies than units", not an exact count.
  const threadCopies = new Set(rows.map((r) => `${r.th_pid}:${r.th_tid}`));
  const children = new Set(rows.map((r) => Number(r.pr_pid)));
  expect(threadCopies.size).toBeLessThan(UNITS);
  expect(children.size).toBeLessThan(UNITS);
  // Some copy served several units (the worker's set, kept).
  const unitsPerCopy = new Map<string, Set<number>>();
  for (const r of rows) (unitsPerCopy.get(`${r.th_pid}:${r.th_tid}`) ?? unitsPerCopy.set(`${r.th_pid}:${r.th_tid}`, new Set()).get(`${r.th_pid}:${r.th_tid}`)!).add(unitOf(r));
  expect(Math.max(...[...unitsPerCopy.values()].map((s) => s.size))).toBeGreaterThanOrEqual(2);
  // The report says which units ran on warm copies: all but each set's first.
  expect(report.units.filter((u) => u.warm).length).toBe(UNITS - threadCopies.size);
});

it('the failed unit ran again on copies started afresh (not the ones its failure stopped), and the run committed', () => {
  const failed = report.units.find((u) => u.unit === FAIL_UNIT)!;
  expect(failed.attempts).toBe(2);
  expect(report.units.filter((u) => u.unit !== FAIL_UNIT).every((u) => u.attempts === 1)).toBe(true);
  // Its retry ran on copies set up once, like every other (a failed unit's set is dropped, never given to the next unit).
  const its = rows.filter((r) => unitOf(r) === FAIL_UNIT);
  expect(its).toHaveLength(30);
  expect(new Set(its.map((r) => Number(r.th_setups)))).toEqual(new Set([1]));
});

it('the report has every unit with its worker, attempts, rows and times, and per-worker sums', () => {
  expect(report.units.map((u) => u.unit)).toEqual([...Array(UNITS).keys()]);
  for (const u of report.units) {
    expect(u.worker).toMatch(/^.+:\d+$/);
    expect(u.rows).toBe(30);
    expect(u.startupMs).toBeGreaterThanOrEqual(0);
    expect(u.cpuMs).toBeGreaterThanOrEqual(0);
  }
  const workers = new Set(report.units.map((u) => u.worker));
  expect(report.workers.map((w) => w.worker).sort()).toEqual([...workers].sort());
  expect(report.workers.reduce((n, w) => n + w.units, 0)).toBe(UNITS);
  expect(report.workers.reduce((n, w) => n + w.rows, 0)).toBe(report.rows);
});

it('the HTML report: a table row and a timeline bar per unit, a row per worker; --metrics: the run, its units and its workers', () => {
  const table = html.slice(html.indexOf('<table id="units">'));
  expect(table.slice(0, table.indexOf('</table>')).match(/<tr>/g)).toHaveLength(UNITS + 1);
  expect(html.match(/<rect class="unit"/g)).toHaveLength(UNITS);
  expect(html).toContain(`data-unit="${FAIL_UNIT}" `);
  const workersTable = html.slice(html.indexOf('<table id="workers">'));
  expect(workersTable.slice(0, workersTable.indexOf('</table>')).match(/<tr>/g)).toHaveLength(report.workers.length + 1);
  expect(metrics).toMatch(/^sluice_run_success\{pipeline="warm"\} 1$/m);
  expect(metrics).toMatch(new RegExp(`^sluice_cluster_units\\{pipeline="warm"\\} ${UNITS}$`, 'm'));
  expect(metrics).toMatch(new RegExp(`^sluice_cluster_unit_attempts\\{pipeline="warm"\\} ${UNITS + 1}$`, 'm'));
  expect(metrics).toMatch(new RegExp(`^sluice_source_rows\\{pipeline="warm"\\} ${UNITS * 30}$`, 'm'));
  for (const w of report.workers) expect(metrics).toContain(`sluice_cluster_worker_units{pipeline="warm",worker="${w.worker}"} ${w.units}`);
  expect(metrics.trimEnd().endsWith('# EOF')).toBe(true);
});
