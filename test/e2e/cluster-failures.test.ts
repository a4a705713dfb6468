/**
 * Cluster mode's failure cases (issue 27), on a real redis-server and real `sluice worker`
 * processes (`--cluster local:N`; no mocks), each checked against the embedded run's output
 * read back by DuckDB, with nothing hidden left:
 * - a worker SIGKILLed mid-unit and another SIGSTOPped past its lock once its unit is staged
 *   (SLUICE_TEST_STOP_AT=cluster-unit-5): both units run again elsewhere; the stopped worker,
 *   continued once the other attempt has completed the unit, cannot complete it (it lost the
 *   lock) and removes its own staged files; the report shows the retried units;
 * - the commit job's worker SIGKILLed at each step of the publish of two sinks (before the
 *   journal, after it, between the two renames; SLUICE_TEST_STOP_ONCE: only the first attempt
 *   stops): BullMQ runs the commit job again on the other worker, which finishes the same
 *   commit; both outputs all new, `_SUCCESS` once;
 * - a unit that kills its worker every time: with --attempts 2 the run fails naming the unit
 *   and file after its attempts, the previous output untouched; it never hangs (the CLI helper's
 *   limit).
 * Every wait is on a condition (a line the driver prints, a process's state in /proc), never a time.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { errorsLogged, runEmbedded } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { descendants, stopped } from '../helpers/processes';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(600_000);

const ws = workspace('sluice-cluster-failures-');
afterAll(() => ws.cleanup());

const FILES = 6;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
for (let i = 1; i <= FILES; i++) {
  const rows = ['id,name,v', ...Array.from({ length: 30 }, (_, j) => `${i * 100 + j},n${j % 3},${j}.5`)];
  writeFileSync(path.join(inputs, `f${i}.csv`), rows.join('\n') + '\n');
}

/** Two sinks (committed together, with a journal): one Parquet file and a partitioned directory. */
function config(caseName: string, stage?: unknown): { dir: string; file: string; pq: string; parts: string } {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(path.join(dir, 'out'), { recursive: true });
  const pq = path.join(dir, 'out', 'all.parquet');
  const parts = path.join(dir, 'out', 'parts');
  const file = ws.config(
    {
      name: 'cluster-failures',
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 10 },
      stages: [stage ?? { name: 'same', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'inline' }],
      sinks: [
        { name: 'pq', format: 'parquet', path: pq },
        { name: 'dir', format: 'parquet', path: parts, partitionBy: ['name'] },
      ],
    },
    `${caseName}.config.ts`,
  );
  return { dir, file, pq, parts };
}

/** Every entry under `dir` whose name starts with a dot (a temporary, a lock, a staging area, a journal). */
function hidden(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((p) => p.split(path.sep).some((part) => part.startsWith('.')));
}

/** Both outputs as DuckDB reads them: the file's rows in file order, each partition file's rows (named without the run id). */
async function outputs(c: { pq: string; parts: string }): Promise<unknown> {
  const file = await duckRows(`SELECT * FROM read_parquet('${c.pq}', file_row_number = true) ORDER BY file_row_number`);
  const parts: Record<string, unknown> = {};
  for (const rel of readdirSync(c.parts, { recursive: true }).map(String).filter((p) => p.endsWith('.parquet')).sort()) {
    parts[rel.replace(/part-(\d+)-[^.]+\.parquet$/, 'part-$1.parquet')] = await duckRows(`SELECT * FROM read_parquet('${path.join(c.parts, rel)}', file_row_number = true) ORDER BY file_row_number`);
  }
  const distinct = await duckRows(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM read_parquet('${c.parts}/**/*.parquet')`);
  return { file, parts, distinct, success: readdirSync(c.parts).filter((f) => f === '_SUCCESS') };
}

interface Report {
  ok: boolean;
  units: { unit: number; file: string; attempts: number; worker: string }[];
  commit?: { attempts: number; worker: string };
}

const embedded = config('embedded');
let expected: unknown;
beforeAll(async () => {
  // The reference, in this process (the engine's output is what is compared, not the command's).
  const r = await runEmbedded(embedded.file);
  expect({ error: r.error, errorsLogged: errorsLogged(r.logs) }).toEqual({ error: undefined, errorsLogged: [] });
  expected = await outputs(embedded);
  expect(expected).toMatchObject({ distinct: [{ n: FILES * 30, ids: FILES * 30 }], success: ['_SUCCESS'] });
});

/** How many 20 ms looks reuse one list of `root`'s descendants before it is read again. */
const LOOKS_PER_SCAN = 10;

/**
 * Polls /proc (a condition, not a time) until a process below `root` stops; `then` is told its
 * pid. Ends when the run does. Each look reads the state of the processes known to be below
 * `root` (a file each); the list itself, a read of every process's /proc/<pid>/stat (~3 ms of
 * CPU on a machine with a hundred processes, more under a busy suite), is made again every
 * LOOKS_PER_SCAN looks, for a worker started since (local:N replaces a dead one): every 20 ms
 * it was a sixth of a core for as long as the run took.
 */
function whenOneStops(root: number, ended: () => boolean, then: (pid: number) => void): void {
  let below: number[] = [];
  let looks = 0;
  const look = () => {
    if (ended()) return;
    if (looks++ % LOOKS_PER_SCAN === 0) below = descendants(root);
    const pid = below.find((p) => stopped(p));
    if (pid !== undefined) then(pid);
    else setTimeout(look, 20);
  };
  look();
}

it('a worker SIGKILLed mid-unit and another SIGSTOPped past its lock: both units run again elsewhere, the stopped one cannot complete once continued and removes what it staged; output equal, no row lost or doubled', async () => {
  const marker = path.join(ws.dir, 'killed-once');
  // Inline, so the stage's SIGKILL kills the worker itself, in the middle of unit 1 (f2's second batch).
  const c = config('paused', { name: 'same', module: path.join(FIXTURE_STAGES, 'fault-once.ts'), mode: 'inline', options: { firstId: 210, how: 'sigkill', marker } });
  const report = path.join(c.dir, 'report.json');
  let zombie: number | undefined;
  let continued = false;
  let ended = false;
  const r = await runCli(['run', c.file, '--cluster', 'local:3', '--lock-duration', '2s', '--report', report, '--log-level', 'warn'], {
    timeoutMs: 300_000,
    env: { SLUICE_TEST_STOP_AT: 'cluster-unit-4', SLUICE_TEST_STOP_ONCE: path.join(ws.dir, 'paused-once') },
    onSpawn: (child) => {
      child.on('exit', () => (ended = true));
      whenOneStops(child.pid!, () => ended, (pid) => (zombie = pid));
      // Unit 4 done means another worker completed it: the stopped one's lock expired long ago. Continue it now.
      child.stderr!.on('data', (d: Buffer) => {
        if (continued || zombie === undefined || !String(d).includes(`done: ${path.join(inputs, 'f5.csv')} (`)) return;
        continued = true;
        process.kill(zombie, 'SIGCONT');
      });
    },
  });
  expect(zombie).toBeDefined();
  expect(continued).toBe(true);
  expect(r.code).toBe(0);
  expect(existsSync(marker)).toBe(true);
  // The continued worker found its lock gone: it recorded nothing and removed its attempt's files.
  expect(r.stderr).toMatch(new RegExp(`worker [^ ]+:${zombie} lost the lock of unit 4 \\(.*f5\\.csv\\) .*this attempt's staged files are removed and never committed`));
  const rep = JSON.parse(readFileSync(report, 'utf8')) as Report;
  const byUnit = new Map(rep.units.map((u) => [u.unit, u]));
  expect(byUnit.get(1)!.attempts).toBeGreaterThanOrEqual(2);
  expect(byUnit.get(4)!.attempts).toBeGreaterThanOrEqual(2);
  expect(byUnit.get(4)!.worker).not.toMatch(new RegExp(`:${zombie}$`));
  expect(r.stderr).toMatch(/unit 1 \(.*f2\.csv\) ran \d times/);
  expect(r.stderr).toMatch(/unit 4 \(.*f5\.csv\) ran \d times/);
  expect(await outputs(c)).toEqual(expected);
  expect(hidden(c.dir)).toEqual([]);
});

describe.each(['before-journal', 'after-journal', 'between-renames'])('the commit job\'s worker SIGKILLed %s', (step) => {
  it('BullMQ runs the commit job again on another worker, which finishes the same commit: both outputs all new, _SUCCESS once, nothing hidden left', async () => {
    const c = config(`commit-${step}`);
    // The previous outputs: all replaced, whatever step the first commit attempt died at.
    writeFileSync(c.pq, 'the previous output');
    mkdirSync(c.parts);
    writeFileSync(path.join(c.parts, 'old.parquet'), 'the previous output');
    const report = path.join(c.dir, 'report.json');
    let killed: number | undefined;
    let ended = false;
    const r = await runCli(['run', c.file, '--cluster', 'local:2', '--lock-duration', '2s', '--report', report, '--log-level', 'error'], {
      timeoutMs: 300_000,
      env: { SLUICE_TEST_STOP_AT: step, SLUICE_TEST_STOP_ONCE: path.join(c.dir, 'stopped-once') },
      onSpawn: (child) => {
        child.on('exit', () => (ended = true));
        whenOneStops(child.pid!, () => ended, (pid) => {
          killed = pid;
          process.kill(pid, 'SIGKILL');
        });
      },
    });
    expect(killed).toBeDefined();
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as Report;
    expect(rep.commit!.attempts).toBeGreaterThanOrEqual(2);
    expect(rep.commit!.worker).not.toMatch(new RegExp(`:${killed}$`));
    expect(existsSync(path.join(c.parts, 'old.parquet'))).toBe(false);
    expect(await outputs(c)).toEqual(expected);
    expect(hidden(c.dir)).toEqual([]);
  });
});

it('a unit that kills its worker every time: with --attempts 2 the run fails naming the unit and its file after its attempts; nothing committed, the previous output untouched, no hang', async () => {
  const c = config('kills-always', { name: 'same', module: path.join(FIXTURE_STAGES, 'fault-once.ts'), mode: 'inline', options: { firstId: 300, how: 'sigkill', marker: path.join(ws.dir, 'unused'), always: true } });
  writeFileSync(c.pq, 'the previous output');
  const r = await runCli(['run', c.file, '--cluster', 'local:2', '--lock-duration', '2s', '--attempts', '2', '--log-level', 'error'], { timeoutMs: 300_000 });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/unit 2 \(.*f3\.csv\) failed after 3 attempt\(s\): the worker running it died 2 time\(s\) \(.*SIGKILL.*\); the unit is not tried again \(attempts: 2\)/);
  expect(r.stderr).toContain('nothing was committed, the previous output is untouched');
  expect(readFileSync(c.pq, 'utf8')).toBe('the previous output');
  expect(existsSync(c.parts)).toBe(false);
  expect(hidden(c.dir)).toEqual([]);
});
