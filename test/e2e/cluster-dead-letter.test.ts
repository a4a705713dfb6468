/**
 * A deadLetter output in cluster mode (issue 27): each unit job stages the rows it rejected
 * (one more staged stream) and returns what it rejected and read; the commit job replays them
 * into the dead-letter output, committed with the other sinks, and checks maxErrors over every
 * unit's rejects. A two-sink graph (Parquet and CSV from one stage) over 4 CSV files: bad `x`
 * values the source dead-letters in files 1 and 3, a row the stage rejects (`ctx.reject`) in
 * file 2. With `--cluster local:2` (a private real redis-server and two workers): the three
 * outputs equal the embedded run's, read back by DuckDB. With maxErrors one below the rows
 * rejected (each unit alone is under it; together they are over): the run fails naming the
 * first rejects, exit != 0, nothing committed, nothing hidden left.
 *
 * The two cluster runs share one redis-server and two workers started for the file
 * (helpers/cluster-pool.ts; `--cluster <url>`, a run id each) instead of a private server and
 * two workers each (`--cluster local:2`, which cluster.test.ts and the others keep), and run at
 * once beside the embedded run: the run over maxErrors fails in its commit job, once every unit
 * is done, so no unit of it is left for the shared workers after its driver gives up.
 *
 * Then a stateful stage with the dead-letter output, and maxErrors as a share (`'0.1%'`) of the
 * rows all units read, on the same workers: the head rejects rows (the source a bad value, a
 * stage ids on its list), a per-name sum runs in the commit job over every unit's output. Under
 * the bound (2 rejects of 3000 rows read, where 0.1% is 3; a unit alone, 750 rows, would be over
 * its own share with one) the run commits the embedded run's sums and dead-letter rows,
 * DuckDB-checked; with 4 rejects both runs fail the same way, naming the bound, nothing committed.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { errorsLogged, runEmbedded } from '../helpers/embedded-run';
import { startClusterPool, type ClusterPool } from '../helpers/cluster-pool';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(240_000);

const ws = workspace('sluice-cluster-dl-');
let pool: ClusterPool | undefined;
beforeAll(async () => {
  pool = await startClusterPool(2);
});
afterAll(async () => {
  await pool?.stop();
  ws.cleanup();
});

const FILES = 4;
const ROWS = 25;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
/** File number → (row index → the bad text for `x`). */
const BAD: Record<number, [number, string]> = { 1: [4, 'oops'], 3: [17, 'nope'] };
/** The id the stage rejects: file 2's row 9. */
const REFUSED = 209;
for (let i = 1; i <= FILES; i++) {
  const lines = ['id,name,x'];
  for (let j = 0; j < ROWS; j++) lines.push(`${i * 100 + j},n${i},${BAD[i]?.[0] === j ? BAD[i][1] : j * 0.5}`);
  writeFileSync(path.join(inputs, `f${i}.csv`), lines.join('\n') + '\n');
}
const REJECTED = Object.keys(BAD).length + 1;

function setup(caseName: string, maxErrors: number): string {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir);
  return ws.config(
    {
      name: 'cluster-dl',
      // Batches of 10 rows: a unit reads 3, so the rejects' batch numbers of files 2 and 3 count the units' before them.
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 10, schema: { x: 'float64' }, onError: 'dead-letter' },
      stages: [{ name: 'gate', module: path.join(FIXTURE_STAGES, 'rejects-rows.ts'), mode: 'thread', concurrency: 2, onError: 'dead-letter', options: { ids: [REFUSED] } }],
      sinks: [
        { name: 'clean', from: 'gate', format: 'parquet', path: path.join(dir, 'out/clean.parquet') },
        { name: 'copy', from: 'gate', format: 'csv', path: path.join(dir, 'out/copy.csv') },
      ],
      deadLetter: { format: 'ndjson', path: path.join(dir, 'out/rejects.ndjson') },
      maxErrors,
    },
    `${caseName}.config.ts`,
  );
}

const out = (caseName: string, file: string) => path.join(ws.dir, caseName, 'out', file);
const parquet = (c: string) => duckRows(`select * from read_parquet('${out(c, 'clean.parquet')}', file_row_number = true) order by file_row_number`);
const csv = (c: string) => duckRows(`select * from read_csv('${out(c, 'copy.csv')}')`);
/**
 * Every column of the rejects, as a multiset (sorted on all of them): an embedded run writes a
 * reject when it is taken out (the source's as it reads, a stage's when its copy finishes the
 * batch), a cluster run unit by unit, in unit order; the rows, their batch numbers included, are the same.
 */
const rejects = (c: string) => duckRows(`select origin, stage, regexp_extract(file, '[^/]+$') as file, line, "row", "column", batch, reason, raw, "values" from read_json('${out(c, 'rejects.ndjson')}', format = 'newline_delimited') order by all`);
const hidden = (c: string) => readdirSync(path.join(ws.dir, c), { recursive: true }).map(String).filter((p) => p.split(path.sep).some((part) => part.startsWith('.')));

it('two sinks and a dead-letter output with --cluster (2 workers): the embedded run\'s three outputs; one reject past maxErrors over all units fails with nothing committed', async () => {
  const embedded = setup('embedded', REJECTED);
  const cluster = setup('cluster', REJECTED);
  const over = setup('over', REJECTED - 1);
  const reports = { cluster: path.join(ws.dir, 'cluster.json') };
  const [e, c, o] = await Promise.all([
    runEmbedded(embedded), // the reference, in this process: its outputs and its report are what is compared
    runCli(['run', cluster, '--cluster', pool!.url, '--run-id', 'dl-cluster', '--log-level', 'error', '--report', reports.cluster], { timeoutMs: 200_000 }),
    runCli(['run', over, '--cluster', pool!.url, '--run-id', 'dl-over', '--log-level', 'error'], { timeoutMs: 200_000 }),
  ]);
  expect({ error: e.error, errorsLogged: errorsLogged(e.logs) }).toEqual({ error: undefined, errorsLogged: [] });
  expect(c.stdout + c.stderr).toContain(`committed on ${pool!.url}: ${FILES} units, ${FILES * ROWS} rows read`);
  expect(c.code).toBe(0);

  const want = await rejects('embedded');
  expect(want).toHaveLength(REJECTED);
  expect(want.map((r) => [r.origin, r.file])).toEqual([['source', 'f1.csv'], ['source', 'f3.csv'], ['stage', 'f2.csv']]);
  expect(await rejects('cluster')).toEqual(want);
  const clean = await parquet('embedded');
  expect(clean).toHaveLength(FILES * ROWS - REJECTED);
  expect(await parquet('cluster')).toEqual(clean);
  expect(await csv('cluster')).toEqual(await csv('embedded'));
  expect(hidden('cluster')).toEqual([]);
  // The report: the dead-letter output among the committed sinks, the rejects per place and reason as the embedded run counts them.
  const report = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as { sinks: { name: string; rows: number }[]; rejected?: { rows: number; counts: unknown[] } };
  const [er, cr] = [e.report!, report(reports.cluster)];
  expect(cr.sinks.map((s) => [s.name, s.rows])).toEqual([['clean', FILES * ROWS - REJECTED], ['copy', FILES * ROWS - REJECTED], ['deadLetter', REJECTED]]);
  expect(cr.rejected).toEqual({ rows: REJECTED, counts: er.rejected!.counts });
  expect(c.stdout + c.stderr).toContain(`rejected: ${REJECTED} rows (`);

  expect(o.code).not.toBe(0);
  expect(o.stderr).toContain(`${REJECTED} rows rejected (skipped or dead-lettered), more than maxErrors: ${REJECTED - 1}; nothing was committed. The first: source, ${path.join(inputs, 'f1.csv')}, line 6`);
  const overOut = path.join(ws.dir, 'over', 'out');
  expect(existsSync(overOut) ? readdirSync(overOut, { recursive: true }).map(String).filter((p) => !p.startsWith('.')) : []).toEqual([]);
  expect(hidden('over')).toEqual([]);
});

const SHARE_FILES = 4;
const SHARE_ROWS = 750;
const shareInputs = path.join(ws.dir, 'in-share');
mkdirSync(shareInputs);
for (let i = 1; i <= SHARE_FILES; i++) {
  const lines = ['id,name,x'];
  // f1's row 10: a value the source dead-letters; names recur across files, so a name's sum spans units.
  for (let j = 0; j < SHARE_ROWS; j++) lines.push(`${i * 1000 + j},n${j % 4},${i === 1 && j === 10 ? 'oops' : j * 0.5}`);
  writeFileSync(path.join(shareInputs, `s${i}.csv`), lines.join('\n') + '\n');
}

/** A head that rejects (the source's bad value, the stage's `ids`), a per-name sum after it (run by the commit job), the dead-letter output; maxErrors '0.1%'. */
function shareSetup(caseName: string, ids: number[]): string {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir);
  return ws.config(
    {
      name: 'cluster-dl-share',
      source: { format: 'csv', path: path.join(shareInputs, '*.csv'), batchRows: 100, schema: { x: 'float64' }, onError: 'dead-letter' },
      stages: [
        // Inline: the four runs at once start no threads (the first case covers a thread stage's rejects).
        { name: 'gate', module: path.join(FIXTURE_STAGES, 'rejects-rows.ts'), mode: 'inline', onError: 'dead-letter', options: { ids } },
        { name: 'sum', module: path.join(FIXTURE_STAGES, 'keyed-sum.ts'), mode: 'inline', options: { key: ['name'], value: 'x' } },
      ],
      sinks: [{ name: 'sums', from: 'sum', format: 'parquet', path: path.join(dir, 'out/sums.parquet') }],
      deadLetter: { format: 'ndjson', path: path.join(dir, 'out/rejects.ndjson') },
      maxErrors: '0.1%',
    },
    `${caseName}.config.ts`,
  );
}

it('a stateful stage with a dead-letter output and maxErrors \'0.1%\' across units: under the bound the embedded run\'s sums and rejects; over it both runs fail the same way, naming the bound, nothing committed', async () => {
  // 0.1% of the 3000 rows read is 3. Under: 2 rejects, the source's (s1) and an id of s2 the stage refuses (each alone is
  // over the 0.1% of its own unit's 750 rows); over: ids of s3 and s4 too, 4 rejects.
  const under = [2005];
  const over = [...under, 3007, 4009];
  const cfg = { eu: shareSetup('share-embedded', under), cu: shareSetup('share-cluster', under), eo: shareSetup('share-embedded-over', over), co: shareSetup('share-cluster-over', over) };
  const reports = { cu: path.join(ws.dir, 'share-cluster.json') };
  const [eu, cu, eo, co] = await Promise.all([
    runEmbedded(cfg.eu), // the references, in this process: their outputs, report and error are what is compared
    runCli(['run', cfg.cu, '--cluster', pool!.url, '--run-id', 'share-under', '--log-level', 'error', '--report', reports.cu], { timeoutMs: 200_000 }),
    runEmbedded(cfg.eo),
    runCli(['run', cfg.co, '--cluster', pool!.url, '--run-id', 'share-over', '--log-level', 'error'], { timeoutMs: 200_000 }),
  ]);
  expect({ error: eu.error, errorsLogged: errorsLogged(eu.logs) }).toEqual({ error: undefined, errorsLogged: [] });
  expect(cu.stdout + cu.stderr).toContain(`committed on ${pool!.url}: ${SHARE_FILES} units, ${SHARE_FILES * SHARE_ROWS} rows read`);
  expect(cu.code).toBe(0);
  const sums = (c: string) => duckRows(`select * from read_parquet('${out(c, 'sums.parquet')}') order by name`);
  const want = await sums('share-embedded');
  expect(want).toHaveLength(4);
  expect(await sums('share-cluster')).toEqual(want);
  const dead = await rejects('share-embedded');
  expect(dead.map((r) => [r.origin, r.file])).toEqual([['source', 's1.csv'], ['stage', 's2.csv']]);
  expect(await rejects('share-cluster')).toEqual(dead);
  const report = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as { rejected?: { rows: number; counts: unknown[] } };
  // The cluster's report names the dead-letter output among its sinks; the rejects, per place and reason, are the embedded run's.
  const er = eu.report!.rejected!;
  expect(report(reports.cu).rejected).toEqual({ rows: 2, counts: er.counts });
  expect(hidden('share-cluster')).toEqual([]);

  // Over the bound: the same failure in both, naming the share and the rows every unit read together.
  const why = (stderr: string) => /\d+ rows rejected \(skipped or dead-lettered\).*?or raise maxErrors/.exec(stderr)?.[0];
  expect(why(eo.error?.message ?? '')).toContain(`4 rows rejected (skipped or dead-lettered), more than maxErrors: '0.1%' of the ${SHARE_FILES * SHARE_ROWS} rows read; nothing was committed. The first: source, ${path.join(shareInputs, 's1.csv')}, line 12`);
  expect(eo.error).toBeDefined();
  expect(co.code).not.toBe(0);
  expect(why(co.stderr)).toBe(why(eo.error!.message));
  for (const c of ['share-embedded-over', 'share-cluster-over']) {
    const o = path.join(ws.dir, c, 'out');
    expect(existsSync(o) ? readdirSync(o, { recursive: true }).map(String).filter((p) => !p.startsWith('.')) : []).toEqual([]);
    expect(hidden(c)).toEqual([]);
  }
});
