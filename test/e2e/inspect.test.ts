/**
 * `sluice inspect` through the CLI, as a user runs it. What it says is what `run` does: its
 * schema is the schema of what a run of the same source writes to an Arrow sink, for every
 * format (tricky CSV columns and CSV options included), and its first rows are the run's
 * first rows. Row counts and Parquet row groups are checked against independent readers
 * (DuckDB, hyparquet); bad input is a clear error with a non-zero exit.
 *
 * Through the CLI: the first JSON inspection, the table output and the bad options named in
 * one pass (exit code, stdout and stderr as a user gets them); every other inspection runs the
 * same parsing and handler in this process (test/helpers/in-process.ts inspectInProcess: the
 * built CLI's yargs, inspect's option declarations, inspectCommand), which prints the same
 * text and returns the same code without a CLI child (~0.5 s of CPU each; 22 inspections ran
 * through the CLI before, 3 do now).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import pino from 'pino';
import { run as runPipeline } from '../../src/index';
import { duckRows } from '../helpers/duckdb';
import { runCli, type CliResult } from '../helpers/cli';
import { inspectInProcess } from '../helpers/in-process';
import { workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-inspect-');
  // Tricky columns: a leading zero (zip), text at line 7 among integers (code), integers
  // widened by a decimal (amount), an integer beyond int64 (big), two datetime forms (ts),
  // all empty (empty); a quoted field spanning lines 2–3 and a blank line 5 shift the lines.
  writeFileSync(
    at('tricky.csv'),
    [
      'id,zip,code,amount,big,day,ts,flag,empty,note',
      '1,08123,1,1,1,2026-11-01,2026-11-24T10:11:12,true,,"multi',
      'line"',
      '2,10115,2,2,2,2026-11-02,2026-11-24T10:11:13,false,,plain',
      '',
      '3,75001,3,2.5,99999999999999999999,2026-11-03,2026-11-24 10:11:14,TRUE,,x',
      '4,01000,x1,4,4,2026-11-04,2026-11-24T10:11:15,false,,y',
      '5,20000,5,5,5,2026-11-05,2026-11-24T10:11:16,true,,z',
    ].join('\n') + '\n',
  );
  // Options that change what is read: delimiter, a null spelling, type overrides, a projection.
  writeFileSync(at('opts.csv'), 'a;b;c;zip\n1;NA;3;10115\n2;x;4.5;20095\n');
});
afterAll(() => ws.cleanup());

function at(...p: string[]): string {
  return path.join(ws.dir, ...p);
}

interface Inspected {
  format: string;
  rows: number;
  files: { file: string; bytes: number; rows: number; hive: Record<string, string | null>; parquet?: { rows: number; rowGroups: { rows: number; compressedBytes: number; uncompressedBytes: number; codecs: string[] }[] } }[];
  schema: { name: string; type: string; origin: string; csv?: { type: string; reason: string; line?: number } }[];
  notes: string[];
  preview: { columns: string[]; rows: Record<string, unknown>[] };
}

/** `sluice inspect <args>` from the workspace: through the CLI, or in this process (also when there is no build to parse with). */
async function inspect(args: string[], viaCli = false): Promise<CliResult> {
  return (!viaCli && (await inspectInProcess(args, ws.dir))) || runCli(['inspect', ...args], { cwd: ws.dir });
}

async function inspectJson(args: string[], viaCli = false): Promise<Inspected> {
  const r = await inspect([...args, '--json'], viaCli);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as Inspected;
}

/**
 * Run `source` into an Arrow file (and NDJSON, to compare values); returns the Arrow table.
 * Through `run()` in this process (the checks, then the plan, as `sluice run`): what the run
 * writes is the reference here, and `inspect` is the command under test, so the two runs per
 * source need no CLI child each (ten children, ~1 s of CPU apiece, before).
 */
async function runToArrow(name: string, source: Record<string, unknown>) {
  const arrowCfg = ws.config({ name, source, stages: [], sink: { format: 'arrow', path: `out/${name}.arrow` } }, `${name}.config.ts`);
  const ndjsonCfg = ws.config({ name, source, stages: [], sink: { format: 'ndjson', path: `out/${name}.ndjson` } }, `${name}-nd.config.ts`);
  for (const cfg of [arrowCfg, ndjsonCfg]) await runPipeline(cfg, { log: pino({ level: 'silent' }) });
  const table = tableFromIPC(readFileSync(at('out', `${name}.arrow`)));
  const lines = readFileSync(at('out', `${name}.ndjson`), 'utf8').trim().split('\n');
  return { config: arrowCfg, schema: table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) })), rows: table.numRows, ndjson: lines };
}

const typesOf = (x: Inspected) => x.schema.map((c) => ({ name: c.name, type: c.type }));

describe('inspect says what run does', () => {
  it('CSV with tricky columns: the schema run writes, each type with its reason and line, the first rows as run writes them', async () => {
    const run = await runToArrow('tricky', { format: 'csv', path: 'tricky.csv' });
    const x = await inspectJson(['tricky.csv', '--rows', '3'], true);
    expect(typesOf(x)).toEqual(run.schema);
    expect(x.rows).toBe(run.rows);
    expect(Object.fromEntries(x.schema.map((c) => [c.name, `${c.csv!.type}: ${c.csv!.reason}`]))).toEqual({
      id: 'int64: all 5 sampled values are integers',
      zip: 'utf8: value "08123" at line 2 has a leading zero (kept as text, so it stays as written)',
      code: 'utf8: value "x1" at line 7 is not an integer like "1" at line 2',
      amount: 'float64: all 5 sampled values are numbers; value "2.5" at line 6 is the first that is not an integer',
      big: 'utf8: value "99999999999999999999" at line 6 is an integer beyond int64 (kept as text, every digit)',
      day: 'date: all 5 sampled values are dates (YYYY-MM-DD)',
      ts: 'utf8: value "2026-11-24 10:11:14" at line 6 is written another way than "2026-11-24T10:11:12" at line 2 (every datetime of a column must have one form)',
      flag: 'bool: all 5 sampled values are true/false',
      empty: 'utf8: no value in the 5 sampled rows (all empty or null): read as text',
      note: 'utf8: value "multi\\nline" at line 2 is text (not a number, boolean, date or time)',
    });
    // The first rows are the run's first rows, value for value (as the NDJSON sink writes them).
    expect(x.preview.rows).toEqual(run.ndjson.slice(0, 3).map((l) => JSON.parse(l)));
    // An independent reader counts the same rows (blank line skipped, quoted newline kept).
    expect(await duckRows(`SELECT count(*)::INT AS n FROM read_csv('${at('tricky.csv')}', all_varchar = true)`)).toEqual([{ n: x.rows }]);
  });

  it('CSV options taken as the source config takes them: from --config, and the same as flags', async () => {
    const source = { format: 'csv', path: 'opts.csv', delimiter: ';', nullValues: ['NA'], schema: { zip: 'utf8', c: 'float32' }, columns: ['zip', 'c', 'b'] };
    const run = await runToArrow('opts', source);
    const fromConfig = await inspectJson(['--config', run.config]);
    const fromFlags = await inspectJson(['opts.csv', '--delimiter', ';', '--null-values', 'NA', '--schema', 'zip=utf8', '--schema', 'c=float32', '--columns', 'zip', 'c', 'b']);
    expect(typesOf(fromConfig)).toEqual(run.schema);
    expect(typesOf(fromFlags)).toEqual(run.schema);
    expect(run.schema.map((f) => f.name)).toEqual(['zip', 'c', 'b']);
    expect(fromFlags.schema.find((c) => c.name === 'zip')!.csv!.reason).toBe('set by source.schema (inferred: int64, all 2 sampled values are integers)');
    expect(fromFlags.preview.rows).toEqual(run.ndjson.map((l) => JSON.parse(l)));
    expect(fromFlags.preview.rows[0]).toEqual({ zip: '10115', c: 3, b: null });
  });

  it('Parquet under Hive directories: schema with the path columns, rows and row groups as DuckDB and hyparquet read them', async () => {
    for (const year of ['2025', '2026']) {
      mkdirSync(at('pq', `year=${year}`), { recursive: true });
      const file = at('pq', `year=${year}`, 'part.parquet');
      await duckRows(
        `COPY (SELECT range::BIGINT AS id, 'n' || (range % 7) AS name, (range * 0.5)::DOUBLE AS x, DATE '2026-01-01' + (range % 30)::INT AS day FROM range(${year === '2025' ? 5000 : 2500})) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 2048, COMPRESSION snappy)`,
      );
    }
    const run = await runToArrow('pq', { format: 'parquet', path: 'pq/**/*.parquet' });
    const x = await inspectJson(['pq/**/*.parquet', '--rows', '2']);
    expect(typesOf(x)).toEqual(run.schema);
    expect(x.schema.find((c) => c.name === 'year')).toMatchObject({ type: 'Utf8View', origin: 'path' });
    expect(x.rows).toBe(run.rows);
    expect(x.preview.rows).toEqual(run.ndjson.slice(0, 2).map((l) => JSON.parse(l)));
    for (const f of x.files) {
      const [{ n }] = await duckRows(`SELECT count(*)::INT AS n FROM read_parquet('${f.file}')`);
      expect(f.rows).toBe(n);
      expect(f.hive).toEqual({ year: /year=(\d+)/.exec(f.file)![1] });
      const bytes = readFileSync(f.file);
      const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      expect(f.parquet!.rowGroups).toEqual(
        meta.row_groups.map((g) => ({
          rows: Number(g.num_rows),
          compressedBytes: g.columns.reduce((s, c) => s + Number(c.meta_data!.total_compressed_size), 0),
          uncompressedBytes: Number(g.total_byte_size),
          codecs: [...new Set(g.columns.map((c) => c.meta_data!.codec.toLowerCase()))],
        })),
      );
      expect(f.parquet!.rowGroups.length).toBeGreaterThan(1);
    }
  });

  it('Arrow IPC: the schema and rows run reads', async () => {
    // the tricky CSV's run output is an Arrow file with every kind of column above
    const run = await runToArrow('arrowin', { format: 'arrow', path: 'out/tricky.arrow' });
    const x = await inspectJson(['out/tricky.arrow', '--rows', '5']);
    expect(typesOf(x)).toEqual(run.schema);
    expect(x.rows).toBe(run.rows);
    expect(x.preview.rows).toEqual(run.ndjson.map((l) => JSON.parse(l)));
  });

  it('NDJSON: the schema of the first batch, rows as DuckDB counts them', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: i, name: `n${i}`, x: i % 3 === 0 ? null : i / 4, tags: [`t${i % 2}`], nested: { ok: i % 2 === 0 } }));
    writeFileSync(at('events.ndjson'), lines.join('\n') + '\n');
    const run = await runToArrow('nd', { format: 'ndjson', path: 'events.ndjson', batchRows: 16 });
    const x = await inspectJson(['events.ndjson', '--batch-rows', '16', '--rows', '4']);
    expect(typesOf(x)).toEqual(run.schema);
    expect(x.rows).toBe(run.rows);
    expect(x.preview.rows).toEqual(run.ndjson.slice(0, 4).map((l) => JSON.parse(l)));
    expect(await duckRows(`SELECT count(*)::INT AS n FROM read_json('${at('events.ndjson')}')`)).toEqual([{ n: x.rows }]);
  });
});

describe('inspect output', () => {
  it('prints the schema with reasons, the files and the first rows as a table', async () => {
    const r = await inspect(['tricky.csv', '--rows', '2'], true);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CSV, 1 file\(s\), \d+ B, 5 rows$/m);
    expect(r.stdout).toMatch(/^ {2}code +Utf8View +yes +utf8: value "x1" at line 7 is not an integer like "1" at line 2$/m);
    expect(r.stdout).toContain('types inferred from 5 row(s) from line 2 of tricky.csv (source.inferRows)');
    expect(r.stdout).toContain('first 2 row(s):');
    expect(r.stdout).toMatch(/^ {2}1 +08123 +1 +1\.0 +1 +2026-11-01 .*multi⏎line$/m);
    expect(r.stdout).not.toMatch(/^ {2}3 +75001/m);
  });

  it('--rows 0 shows no rows; a Parquet file shows its row groups', async () => {
    const r = await inspect(['pq/year=2025/part.parquet', '--rows', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('row(s):');
    expect(r.stdout).toMatch(/row groups of pq\/year=2025\/part\.parquet/);
    expect(r.stdout).toMatch(/^ {2}0 +2,048 +.* snappy$/m);
    expect(r.stdout).toMatch(/^ {2}2 +904 +.* snappy$/m);
  });

  it('says that CSV input does not add Hive columns', async () => {
    mkdirSync(at('csvhive', 'day=2026-11-24'), { recursive: true });
    writeFileSync(at('csvhive', 'day=2026-11-24', 'a.csv'), 'id\n1\n');
    const x = await inspectJson(['csvhive/*/a.csv']);
    expect(x.schema.map((c) => c.name)).toEqual(['id']);
    expect(x.notes).toEqual(["CSV input does not add Hive columns: the directories' day= values are not read as columns"]);
  });
});

describe('inspect refuses bad input clearly', () => {
  it.each([
    ['a missing file', ['nope.csv'], 'sluice: no input file matches "nope.csv"'],
    ['a glob matching nothing', ['none/*.parquet'], 'sluice: no input file matches "none/*.parquet"'],
    ['an unknown extension', ['notes.txt'], '--format: cannot tell the format from notes.txt; pass --format csv|parquet|arrow|ndjson'],
    ['bad options, all at once', ['tricky.csv', '--delimiter', ';;', '--schema', 'zip=int9', '--schema', 'x', '--rows', '-1'], '  ✖ --rows: must be an integer >= 0, got -1\n'],
    ['a CSV-only option on Parquet', ['pq/year=2025/part.parquet', '--delimiter', ';'], '  ✖ --delimiter: applies to CSV sources only'],
    ['a column the file lacks', ['tricky.csv', '--columns', 'zpi'], 'source.columns names "zpi", not a column of this file'],
  ])('%s', async (_, args, message) => {
    const r = await inspect(args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
  });

  it('names every bad option in one pass', async () => {
    const r = await inspect(['tricky.csv', '--delimiter', ';;', '--schema', 'zip=int9', '--schema', 'x'], true);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        'sluice: invalid inspect options:',
        '  ✖ --schema: expected <column>=<type>, got "x"',
        '  ✖ --schema zip: must be one of utf8, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, date, datetime, timestamp, got "int9"',
        '  ✖ --delimiter: must be one character, got ";;"',
        '',
      ].join('\n'),
    );
  });

  it('an unreadable or truncated Parquet file is named, with why', async () => {
    writeFileSync(at('garbage.parquet'), 'this is not parquet at all, just text\n');
    const whole = readFileSync(at('pq', 'year=2025', 'part.parquet'));
    writeFileSync(at('cut.parquet'), whole.subarray(0, whole.length - 100));
    const garbage = await inspect(['garbage.parquet']);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toBe(`sluice: ${at('garbage.parquet')}: not a Parquet file (no PAR1 magic at the end)\n`);
    const cut = await inspect(['cut.parquet']);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toBe(`sluice: ${at('cut.parquet')}: not a Parquet file (no PAR1 magic at the end)\n`);
  });

  it('files that would not make one source fail as the run fails', async () => {
    mkdirSync(at('mixed'));
    writeFileSync(at('mixed', 'a.csv'), 'id,name\n1,a\n');
    writeFileSync(at('mixed', 'b.csv'), 'id,nom\n2,b\n');
    const r = await inspect(['mixed/*.csv']);
    expect(r.code).toBe(1);
    // every CSV header is compared before the first batch: the columns differ, named at line 1
    expect(r.stderr).toContain(`${at('mixed', 'b.csv')}, line 1: columns differ from ${at('mixed', 'a.csv')}`);
    // Parquet: the footers say so, before any row group is read
    await duckRows(`COPY (SELECT 1::BIGINT AS id) TO '${at('mixed', 'a.parquet')}' (FORMAT parquet)`);
    await duckRows(`COPY (SELECT 'one' AS id) TO '${at('mixed', 'b.parquet')}' (FORMAT parquet)`);
    const pq = await inspect(['mixed/*.parquet']);
    expect(pq.code).toBe(1);
    expect(pq.stderr).toContain(`${at('mixed', 'b.parquet')}: schema differs from ${at('mixed', 'a.parquet')}`);
  });

  it('a value beyond the sampled rows that breaks the inferred type fails inspect where it fails run', async () => {
    writeFileSync(at('late.csv'), 'id\n1\n2\nx\n');
    const r = await inspect(['late.csv', '--infer-rows', '2', '--batch-rows', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${at('late.csv')}, line 4, column "id": value "x" is not a valid int64`);
    // the rows before it, asked for alone, are shown with the type and reason
    const first = await inspect(['late.csv', '--infer-rows', '2', '--batch-rows', '2', '--rows', '2']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('int64: all 2 sampled values are integers');
  });
});
