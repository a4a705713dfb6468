/**
 * Incremental runs (`source.incremental`, io/units/incremental.ts): a nightly job over a landing
 * folder that gains files. Every sink kind in one run (a directory of Parquet, CSV, NDJSON and
 * Arrow parts, a partitioned Parquet directory), so every case covers every sink at once.
 *
 * The dead-letter output is one more directory of parts (a value of file 5 does not parse).
 * Night 1 reads 3 files, night 2 the 2 that arrived (asserted from the report), night 3 nothing
 * (exit 0, nothing written); the union of the parts, read back by DuckDB (Arrow by
 * apache-arrow's reader), equals the rows of all 5 files as DuckDB reads the CSVs (what one plain
 * run over all 5 writes). A changed file is read again and
 * warned about, its old rows kept; `--full` replaces every output with one part. A night that
 * fails leaves the outputs and state byte for byte as they were, and the next one reads the 2
 * files again; a kill -9 in the commit of two outputs (before its journal, and between two
 * renames) leaves all or nothing once the next run recovered. `--resume` continues a failed
 * incremental resumable night. Refusals: a single-file sink, a sink mode, a stage with flush()
 * (unless 'per-run'), `--full` without incremental, `--cluster`.
 *
 * Runs are in-process (`run()`), but the two that are killed (the CLI, which the test hook stops).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { tableFromIPC } from 'apache-arrow';
import pino from 'pino';
import { run } from '../../src/index';
import { renderReport } from '../../src/cli/report';
import { clusterPlan } from '../../src/cluster/plan';
import { BIN, runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { explainInProcess } from '../helpers/in-process';
import { killTreeAt } from '../helpers/processes';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(120_000);

const ws = workspace('sluice-incremental-');
afterAll(() => ws.cleanup());

const ROWS = 20;
/** File i's rows: ids i*100.., its name, and `v` fractional in file 1 only (the types are the first night's: float64). */
function csv(i: number, bump = 0): string {
  const n = `n${i}`;
  return ['id,name,v', ...Array.from({ length: ROWS }, (_, j) => `${i * 100 + j},${n},${i === 1 ? j + 0.5 : j + bump}`)].join('\n') + '\n';
}

const SINKS = [
  { name: 'pq', format: 'parquet', path: 'pq/' },
  { name: 'csv', format: 'csv', path: 'csv/' },
  { name: 'nd', format: 'ndjson', path: 'nd/' },
  { name: 'ar', format: 'arrow', path: 'ar/' },
  { name: 'part', format: 'parquet', path: 'part', partitionBy: ['name'] },
] as const;

interface Case {
  dir: string;
  landing: string;
  config: string;
  file(i: number): string;
  land(...is: number[]): void;
}

/** The nightly pipeline writing `sinks` (the first two only, for the cases about failures: a Parquet and a CSV directory, two outputs and a journal). */
function setup(name: string, extra: Record<string, unknown> = {}, stages?: unknown[], sinks: readonly (typeof SINKS)[number][] = SINKS): Case {
  const dir = path.join(ws.dir, name);
  const landing = path.join(dir, 'landing');
  mkdirSync(landing, { recursive: true });
  const file = (i: number) => path.join(landing, `f${String(i).padStart(2, "0")}.csv`);
  const { source, ...rest } = extra as { source?: object };
  const config = ws.config(
    {
      name: 'nightly',
      ...rest,
      source: { format: 'csv', path: path.join(landing, '*.csv'), batchRows: 8, incremental: true, ...source },
      stages: stages ?? [{ name: 'gate', module: path.join(FIXTURE_STAGES, 'fail-on-name.ts'), mode: 'inline' }],
      sinks: sinks.map((s) => ({ ...s, path: path.join(dir, 'out', s.path) + (s.path.endsWith('/') ? '/' : '') })),
    },
    `${name}.config.ts`,
  );
  return { dir, landing, config, file, land: (...is) => is.forEach((i) => writeFileSync(file(i), csv(i))) };
}

const lines: string[] = [];
const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
const night = (c: Case, opts: { full?: boolean; units?: 'resume' } = {}) => run(c.config, { log, ...opts });

/** Every file of the outputs (the state and partition folders included; not what a killed run left beside them: its temporaries and locks) → its bytes. */
function snapshot(c: Case): Map<string, string> {
  const root = path.join(c.dir, 'out');
  const files = readdirSync(root, { recursive: true }).map(String).filter((f) => !f.startsWith('.') && statSync(path.join(root, f)).isFile());
  return new Map(files.sort().map((f) => [f, readFileSync(path.join(root, f)).toString('base64')]));
}

const parts = (c: Case, sink: string) => readdirSync(path.join(c.dir, 'out', sink)).filter((f) => f.startsWith('part-')).sort();

/** Each output's rows, in id order, as an independent reader reads them (the partition column from its path). */
async function rowsOf(c: Case, sinks: number = SINKS.length): Promise<Record<string, unknown[]>> {
  const o = (p: string) => path.join(c.dir, 'out', p);
  const q = (from: string) => duckRows(`select id::int as id, name, v::double as v from ${from} order by id, v`);
  const pq = await q(`read_parquet('${o('pq')}/*.parquet')`);
  const csv = await q(`read_csv('${o('csv')}/*.csv')`);
  if (sinks === 2) return { pq, csv };
  const arrow = readdirSync(o('ar'))
    .filter((f) => f.endsWith('.arrow'))
    .flatMap((f) => tableFromIPC(readFileSync(path.join(o('ar'), f))).toArray().map((r) => ({ id: Number(r.id), name: String(r.name), v: Number(r.v) })))
    .sort((a, b) => a.id - b.id || a.v - b.v);
  return {
    pq,
    csv,
    nd: await q(`read_json('${o('nd')}/*.ndjson', format = 'newline_delimited')`),
    ar: arrow,
    part: await q(`read_parquet('${o('part')}/**/*.parquet', hive_partitioning = true)`),
  };
}

/** The rows of the landing folder's files as they are now, read by DuckDB itself: what one plain run over all of them writes to every output. */
async function reference(c: Case, sinks: number = SINKS.length): Promise<Record<string, unknown[]>> {
  // The one value that does not parse (a row of the nights case) is dead-lettered, not written.
  const rows = await duckRows(`select id::int as id, name, try_cast(v as double) as v from read_csv('${c.landing}/*.csv', union_by_name = true, all_varchar = true) where try_cast(v as double) is not null order by id, v`);
  return Object.fromEntries(SINKS.slice(0, sinks).map((s) => [s.name, rows]));
}

const state = (c: Case) => JSON.parse(readFileSync(path.join(c.dir, 'out', 'pq', '_sluice_incremental.json'), 'utf8'));

describe('incremental runs over a landing folder', () => {
  // A value that does not parse goes to the dead-letter output, one more directory of parts committed with the others.
  const c = setup('nights', { source: { onError: 'dead-letter' }, deadLetter: { format: 'ndjson', path: 'nights/out/rejects/' } });
  const landBad5 = () => writeFileSync(c.file(5), csv(5) + '599,n5,oops\n');
  /** The dead-letter rows of every part (a night without rejects has an empty part, which DuckDB reads as no columns: left out). */
  const rejects = async () => {
    const dir = path.join(c.dir, 'out', 'rejects');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ndjson') && statSync(path.join(dir, f)).size > 0);
    if (!files.length) return [];
    return duckRows(`select file, line::int as line from read_json([${files.map((f) => `'${path.join(dir, f)}'`).join(', ')}], format = 'newline_delimited')`);
  };

  it('night 1 reads 3 files, night 2 only the 2 new ones, night 3 nothing (exit 0, nothing written); the parts together are one run over all 5', async () => {
    c.land(1, 2, 3);
    const n1 = await night(c);
    expect(n1.incremental).toMatchObject({ read: [c.file(1), c.file(2), c.file(3)], skipped: 0, changed: [], full: false });
    expect(n1.source.files).toBe(3);
    for (const s of ['pq', 'csv', 'nd', 'ar', 'rejects']) expect(parts(c, s)).toHaveLength(1);
    expect(await rejects()).toEqual([]);
    c.land(4);
    landBad5();
    const n2 = await night(c);
    expect(n2.incremental).toMatchObject({ read: [c.file(4), c.file(5)], skipped: 3 });
    expect(n2.source).toMatchObject({ files: 2, rows: 2 * ROWS });
    for (const s of ['pq', 'csv', 'nd', 'ar', 'rejects']) expect(parts(c, s)).toHaveLength(2);
    expect(await rejects()).toEqual([{ file: c.file(5), line: ROWS + 2 }]);
    // The partitioned sink added files to the partitions of the new names only.
    expect(readdirSync(path.join(c.dir, 'out', 'part')).filter((d) => d.startsWith('name=')).sort()).toEqual(['name=n1', 'name=n2', 'name=n3', 'name=n4', 'name=n5']);
    const before = snapshot(c);
    const n3 = await night(c);
    expect(n3.ok).toBe(true);
    expect(n3.incremental).toMatchObject({ read: [], skipped: 5 });
    expect(n3.incremental!.part).toBeUndefined();
    expect(n3.source.rows).toBe(0);
    expect(renderReport(n3)).toContain('incremental: nothing new (5 input file(s) committed by earlier runs); nothing was read or written');
    expect(snapshot(c)).toEqual(before);
    expect(await rowsOf(c)).toEqual(await reference(c));
    // The types are the first night's (v float64 in file 1), in every part.
    expect(await duckRows(`select distinct typeof(v) as t from read_parquet('${path.join(c.dir, 'out', 'pq')}/*.parquet')`)).toEqual([{ t: 'DOUBLE' }]);
    expect(Object.keys(state(c).files).sort()).toEqual([1, 2, 3, 4, 5].map(c.file));
  });

  it('a changed file is read again, alone, and warned about; its earlier rows stay in the earlier part', async () => {
    writeFileSync(c.file(2), csv(2, 1000)); // same ids, other values: other bytes
    lines.length = 0;
    const r = await night(c);
    expect(r.incremental).toMatchObject({ read: [c.file(2)], changed: [c.file(2)], skipped: 4 });
    expect(lines.join('')).toContain(`input ${c.file(2)} changed since an earlier run committed it`);
    expect(renderReport(r)).toContain(`warning: ${c.file(2)} changed since an earlier run committed it`);
    const rows = await rowsOf(c);
    for (const s of SINKS) {
      const f2 = rows[s.name].filter((x) => (x as { name: string }).name === 'n2');
      expect(f2).toHaveLength(2 * ROWS); // the old version's rows and the new one's
    }
    // Touched, same bytes: not read again.
    const t = new Date('2026-01-01T00:00:00Z');
    utimesSync(c.file(3), t, t);
    expect((await night(c)).incremental).toMatchObject({ read: [], skipped: 5 });
  });

  it('--full reads everything and replaces every output and the state: one part each, the rows of the files as they are', async () => {
    const r = await night(c, { full: true });
    expect(r.incremental).toMatchObject({ full: true, read: [1, 2, 3, 4, 5].map(c.file) });
    expect(await rejects()).toEqual([{ file: c.file(5), line: ROWS + 2 }]);
    for (const s of ['pq', 'csv', 'nd', 'ar']) expect(parts(c, s)).toEqual([expect.stringContaining(r.incremental!.part!)]);
    expect(state(c).runs).toBe(1);
    expect(await rowsOf(c)).toEqual(await reference(c));
  });
});

/** Two outputs (a Parquet and a CSV directory): a commit with a journal, at a third of the cost. */
const TWO = SINKS.slice(0, 2);

describe('a night that fails, and one killed in its commit', () => {
  it('a failed night 2 leaves night 1 outputs and state byte for byte; the next night reads the 2 files again', async () => {
    const c = setup('failed', {}, undefined, TWO);
    c.land(1, 2, 3);
    await night(c);
    const before = snapshot(c);
    c.land(4, 5);
    process.env.SLUICE_TEST_FAIL_NAME = 'n5';
    try {
      await expect(night(c)).rejects.toThrow('deliberate failure on a row of n5');
    } finally {
      delete process.env.SLUICE_TEST_FAIL_NAME;
    }
    expect(snapshot(c)).toEqual(before);
    const r = await night(c);
    expect(r.incremental).toMatchObject({ read: [c.file(4), c.file(5)] });
    expect(await rowsOf(c, 2)).toEqual(await reference(c, 2));
  });

  it('kill -9 in the commit of 2 outputs and the state, before its journal and then between two renames: all or nothing after the next run', async () => {
    const c = setup('killed', {}, undefined, TWO);
    c.land(1, 2, 3);
    await night(c);
    const before = snapshot(c);
    // Before the journal: nothing published, the state is night 1's; the next run reads the 2 files again.
    c.land(4, 5);
    await killTreeAt(BIN, ['run', c.config, '--quiet'], 'before-journal');
    expect(snapshot(c)).toEqual(before);
    expect((await night(c)).incremental).toMatchObject({ read: [c.file(4), c.file(5)] });
    for (const s of ['pq', 'csv']) expect(parts(c, s)).toHaveLength(2);
    // Between the renames: the first output (and the state in it) is published, the second not yet.
    c.land(6, 7);
    await killTreeAt(BIN, ['run', c.config, '--quiet'], 'between-renames');
    expect([parts(c, 'pq').length, parts(c, 'csv').length]).toEqual([3, 2]);
    // The next run finishes the commit from its journal before it reads the state: nothing is new.
    expect((await night(c)).incremental).toMatchObject({ read: [], skipped: 7 });
    for (const s of ['pq', 'csv']) expect(parts(c, s)).toHaveLength(3);
    expect(await rowsOf(c, 2)).toEqual(await reference(c, 2));
    // The command's --full: exit 0, the summary says so, one part each.
    const full = await runCli(['run', c.config]);
    expect({ code: full.code, stderr: full.stderr }).toMatchObject({ code: 0 });
    expect(full.stderr).toContain('incremental: nothing new (7 input file(s) committed by earlier runs); nothing was read or written');
    const r = await runCli(['run', c.config, '--full']);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(r.stderr).toContain('incremental, --full: read all 7 input file(s); the outputs and their state were replaced');
    for (const s of ['pq', 'csv']) expect(parts(c, s)).toHaveLength(1);
    expect(await rowsOf(c, 2)).toEqual(await reference(c, 2));
  });

  it('--resume of a failed resumable incremental night reads only its units left, then commits them as one part', async () => {
    const c = setup('resumed', { resumable: true }, undefined, TWO);
    c.land(1, 2, 3);
    await night(c);
    // Far enough in that the channels (capacity 4, a few stages deep) let the first units reach every sink: they are kept.
    const tonight = [4, 5, 6, 7, 8, 9, 10, 11, 12];
    c.land(...tonight);
    process.env.SLUICE_TEST_FAIL_NAME = 'n12';
    try {
      await expect(night(c)).rejects.toThrow('deliberate failure on a row of n12');
    } finally {
      delete process.env.SLUICE_TEST_FAIL_NAME;
    }
    const r = await night(c, { units: 'resume' });
    const files = tonight.map(c.file);
    expect(r.incremental).toMatchObject({ read: files });
    expect(r.units!.reused.length).toBeGreaterThan(0);
    expect(r.units).toMatchObject({ reused: files.slice(0, r.units!.reused.length), read: files.slice(r.units!.reused.length) });
    for (const s of ['pq', 'csv']) expect(parts(c, s)).toHaveLength(2);
    expect(await rowsOf(c, 2)).toEqual(await reference(c, 2));
  });

  it('--resume reads the files the failed night chose: files that landed since are the next night\'s, not a refusal', async () => {
    const c = setup('arrived', { resumable: true }, undefined, TWO);
    c.land(1, 2, 3, 4, 5, 6, 7, 8, 9);
    process.env.SLUICE_TEST_FAIL_NAME = 'n9';
    try {
      await expect(night(c)).rejects.toThrow('deliberate failure on a row of n9');
    } finally {
      delete process.env.SLUICE_TEST_FAIL_NAME;
    }
    c.land(10, 11);
    lines.length = 0;
    const r = await night(c, { units: 'resume' });
    const chosen = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(c.file);
    expect(r.incremental).toMatchObject({ read: chosen });
    expect(r.units!.reused.length).toBeGreaterThan(0);
    expect(lines.join('')).toContain('2 input file(s) arrived since the run being resumed chose its files: they are left for the next run');
    // The next night reads them, and the parts together are one run over all 11 files.
    const next = await night(c);
    expect(next.incremental).toMatchObject({ read: [10, 11].map(c.file) });
    for (const s of ['pq', 'csv']) expect(parts(c, s)).toHaveLength(2);
    expect(await rowsOf(c, 2)).toEqual(await reference(c, 2));
  });

  it('--resume without --full of a failed --full night is refused, saying so', async () => {
    const c = setup('full-resumed', { resumable: true }, undefined, TWO);
    c.land(1, 2);
    await night(c);
    c.land(3, 4, 5, 6, 7, 8, 9);
    process.env.SLUICE_TEST_FAIL_NAME = 'n9';
    try {
      await expect(night(c, { full: true })).rejects.toThrow('deliberate failure on a row of n9');
    } finally {
      delete process.env.SLUICE_TEST_FAIL_NAME;
    }
    await expect(night(c, { units: 'resume' })).rejects.toThrow(`cannot resume: the stopped run read 2 file(s) that earlier runs had committed (${c.file(1)}, …), so it was a --full run: resume it with --resume --full, or start again with --restart`);
    const r = await night(c, { units: 'resume', full: true });
    expect(r.incremental).toMatchObject({ full: true });
    expect(await rowsOf(c, 2)).toEqual(await reference(c, 2));
  });

  it('--resume refuses an input edited in place with its size, time and inode kept (the state would record bytes the output lacks)', async () => {
    const c = setup('edited', { resumable: true }, undefined, TWO);
    // Far enough in (as above) that unit 1 is committed when the night fails.
    c.land(1, 2, 3, 4, 5, 6, 7, 8, 9);
    // A whole second, so that putting it back below gives exactly the same time.
    utimesSync(c.file(1), 1_700_000_000, 1_700_000_000);
    process.env.SLUICE_TEST_FAIL_NAME = 'n9';
    try {
      await expect(night(c)).rejects.toThrow('deliberate failure on a row of n9');
    } finally {
      delete process.env.SLUICE_TEST_FAIL_NAME;
    }
    // One byte of f01 (committed as unit 1) changed in place: same inode and size, its times put back.
    const file = c.file(1);
    const { ino, size, mtimeMs } = statSync(file);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(',n1,', ',N1,'));
    expect(readFileSync(file, 'utf8')).not.toBe(text);
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    expect(statSync(file)).toMatchObject({ ino, size, mtimeMs });
    await expect(night(c, { units: 'resume' })).rejects.toThrow(`input ${file} changed (its bytes; its size, modification time and inode did not)`);
  });
});

describe('refused, naming the config path, before anything is written', () => {
  const refused = async (c: Case, text: string, opts: { full?: boolean } = {}) => {
    c.land(1);
    await expect(night(c, opts)).rejects.toThrow(text);
    expect(existsSync(path.join(c.dir, 'out'))).toBe(false);
  };
  const one = (name: string, sink: object, extra: Record<string, unknown> = {}, stages?: unknown[]) => {
    const c = setup(name, extra, stages);
    const config = ws.config({ name, ...extra, source: { format: 'csv', path: path.join(c.landing, '*.csv'), incremental: true }, stages: stages ?? [], sink }, `${name}.config.ts`);
    return { ...c, config };
  };

  it('a single-file sink, or a dead-letter file; --sink-path to a directory (ending in /) is one', async () => {
    const single = one('single', { format: 'parquet', path: 'out/events.parquet' });
    await refused(single, 'sink.path: is "out/events.parquet", one file, but with source.incremental each run adds its output as a new part file');
    const r = await run(single.config, { log, sinkPath: path.join(single.dir, 'events') + '/' });
    expect(r.incremental).toMatchObject({ read: [single.file(1)] });
    expect(readdirSync(path.join(single.dir, 'events')).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
    await refused(one('dead', { format: 'parquet', path: 'out/ok/' }, { deadLetter: { format: 'ndjson', path: 'out/rejects.ndjson' } }), 'deadLetter.path: is "out/rejects.ndjson", one file');
  });

  it('a sink mode other than append', async () => {
    await refused(one('mode', { format: 'csv', path: 'out/x/', mode: 'overwrite' }), 'sink.mode: is "overwrite", but with source.incremental');
  });

  it("a stage with flush() unless incremental: 'per-run'", async () => {
    const count = [{ name: 'count', module: path.join(FIXTURE_STAGES, 'count-names.ts'), mode: 'inline' }];
    await refused(one('flush', { format: 'csv', path: 'out/x/' }, {}, count), `stage "count" has flush()`);
    // Opted in: each night's part holds the counts of that night's files alone.
    const c = setup('per-run', {}, count);
    const config = ws.config({ name: 'per-run', source: { format: 'csv', path: path.join(c.landing, '*.csv'), incremental: 'per-run' }, stages: count, sink: { format: 'csv', path: path.join(c.dir, 'out') + '/' } }, 'per-run.config.ts');
    c.land(1);
    expect((await run(config, { log })).incremental).toMatchObject({ read: [c.file(1)] });
    c.land(2);
    expect((await run(config, { log })).incremental).toMatchObject({ read: [c.file(2)] });
    const counts = await duckRows(`select name, n::int as n, filename like '%part-%' as part from read_csv('${path.join(c.dir, 'out')}/*.csv', filename = true) order by name`);
    expect(counts.map(({ name, n }) => ({ name, n }))).toEqual([{ name: 'n1', n: ROWS }, { name: 'n2', n: ROWS }]);
  });

  it('--full without incremental, and --cluster', async () => {
    const c = setup('plain');
    const config = ws.config({ name: 'plain', source: { format: 'csv', path: path.join(c.landing, '*.csv') }, stages: [], sink: { format: 'csv', path: path.join(c.dir, 'out', 'x.csv') } }, 'plain-not-incremental.config.ts');
    c.land(1);
    await expect(run(config, { log, full: true })).rejects.toThrow('--full reads every input again in an incremental run, and this pipeline is not incremental');
    await expect(clusterPlan(c.config, {})).rejects.toThrow('a cluster run cannot be incremental');
    // Not refused: explain says what a run of it does.
    const explained = await explainInProcess(c.config);
    expect(explained).toContain('incremental: a run reads only the files earlier runs did not commit');
    // Its sinks get a new part each run: not "mode overwrite", which a plain run of the same sink has.
    expect(explained).toMatch(/sink +pq: parquet → .*\/pq \(a new part each run; --full replaces the directory,/);
    expect(explained).not.toContain('mode overwrite');
  });
});
