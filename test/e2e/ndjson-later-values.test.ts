/**
 * NDJSON values after the first batch, end to end: a few cells of the matrix in
 * test/unit/io/sources/ndjson-strict.test.ts through the CLI to a Parquet sink. What is read is
 * exact, as DuckDB reads the Parquet file back; what is not held exactly is a non-zero exit
 * naming file, line and column, with nothing at the sink path.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => (ws = workspace('sluice-ndjson-later-')));
afterAll(() => ws.cleanup());

const ECHO = path.join(FIXTURE_STAGES, 'proc-echo.ts');

/** Each file's lines as `{"v": <value>, "w": <value>}`; two lines per batch, so line 3 starts the second batch. */
async function run(name: string, files: [string, string][][], stages: unknown[] = [], sink = 'parquet') {
  mkdirSync(path.join(ws.dir, name));
  const paths = files.map((rows, i) => {
    const p = path.join(ws.dir, name, `part-${i}.ndjson`);
    writeFileSync(p, rows.map(([v, w]) => `{"v":${v},"w":${w}}`).join('\n') + '\n');
    return p;
  });
  const cfg = ws.config(
    {
      name,
      source: { format: 'ndjson', path: `${name}/*.ndjson`, batchRows: 2 },
      stages,
      sink: { format: sink, path: `out/${name}.${sink}` },
    },
    `${name}.config.ts`,
  );
  const r = await runCli(['run', cfg, '--quiet']);
  return { ...r, out: path.join(ws.dir, 'out', `${name}.${sink}`), paths };
}

const values = async (out: string, column: string) => (await duckRows(`SELECT CAST(${column} AS VARCHAR) AS v, typeof(${column}) AS t FROM read_parquet('${out}')`)).map((r) => [r.v, r.t]);

it('later batches and files are exact: integers beyond 2^53 in int64, integers in float64 (a later file of integers only was "schema differs")', async () => {
  const r = await run(
    'exact',
    [
      [
        ['1', '1'],
        ['2', '2.5'],
        ['9007199254740993', '7'],
      ],
      [
        ['-9223372036854775808', '1000'], // integers only: the file alone would be int64
        ['null', '9007199254740992'],
      ],
    ],
    [{ name: 'echo', module: ECHO, mode: 'thread' }],
  );
  expect(r.code).toBe(0);
  expect(await values(r.out, 'v')).toEqual([
    ['1', 'BIGINT'],
    ['2', 'BIGINT'],
    ['9007199254740993', 'BIGINT'],
    ['-9223372036854775808', 'BIGINT'],
    [null, 'BIGINT'],
  ]);
  expect(await values(r.out, 'w')).toEqual([
    ['1.0', 'DOUBLE'],
    ['2.5', 'DOUBLE'],
    ['7.0', 'DOUBLE'],
    ['1000.0', 'DOUBLE'],
    ['9007199254740992.0', 'DOUBLE'],
  ]);
});

// One run per cell is seconds of CLI start-up: these are the cases, the rest of the matrix runs in-process.
it.each([
  ['1.75 in a later batch of an int64 column (was written 1)', [['1', '2'], ['2', '3'], ['1.75', '4']] as [string, string][], 'value 1.75 has a fraction or an exponent'],
  ['a value after a first batch where the column is null (was a polars panic)', [['null', '2'], ['null', '3'], ['5', '4']] as [string, string][], 'value 5 is a value in a column that is null in every line of the first batch'],
  ['a lone surrogate (was written \\u0000)', [['"a"', '2'], ['"b"', '3'], ['"x\\ud800"', '4']] as [string, string][], 'value "x\\ud800" holds a lone surrogate'],
])('%s: a non-zero exit naming file, line and column, nothing written', async (_, rows, message) => {
  const r = await run(`bad-${message.length}`, [rows]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${r.paths[0]}, line 3, column "v": ${message}`);
  expect(existsSync(r.out)).toBe(false);
});

it("a later file is held to the first file's types: 2.5 there is refused with its line", async () => {
  const r = await run('laterfile', [[['1', '1']], [['3', '1'], ['2.5', '1']]]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(
    `${r.paths[1]}, line 2, column "v": value 2.5 has a fraction or an exponent, so inference would have typed the column float64, not int64; the column's type int64 was fixed by the first batch of ${r.paths[0]} (lines 1–1)`,
  );
  expect(existsSync(r.out)).toBe(false);
});

it('a lone surrogate a stage makes is refused in the stage, naming column and row (apache-arrow and Buffer would write U+FFFD)', async () => {
  const r = await run('stage-surrogate', [[['0', '1'], ['1', '1'], ['2', '1']]], [{ name: 'emit', module: path.join(FIXTURE_STAGES, 'lone-surrogate.ts'), mode: 'thread' }], 'ndjson');
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/stage "emit".*ctx\.table: column \\?"s\\?" row 1: \\?"é\\+ud8001\\?" holds a lone surrogate/);
  expect(existsSync(r.out)).toBe(false);
});
