/**
 * No Rust panic text on stderr (batch/polars-types.ts): nodejs-polars 0.24.1 prints
 * `thread '<unnamed>' panicked at src/conversion.rs…` whenever it is asked for a type it cannot
 * hand to JavaScript (Int128 from an NDJSON integer beyond int64; Binary from a Parquet binary
 * column), before sluice's own error or on a run that is fine. Through the CLI, since the panic
 * is written to the process's stderr by Rust, not through JavaScript:
 * - NDJSON integers beyond int64 (within uint64, beyond it, negative), top level, in a list, in
 *   a struct, in the first batch, a later batch and a later file, into every sink at once (one
 *   run per cell, four sinks): stderr holds sluice's error naming file, line and column, and
 *   nothing else; nothing at any sink path. With `dead-letter` the lines are rejected, exit 0.
 * - A Parquet binary column: `inspect`, a Parquet append (the schemas compared), and two fused
 *   inline polars stages (the frame hand-off asks for the frame's types).
 * - pyarrow's arrow.uuid extension: every reader of the footer (the column probe of `run`,
 *   `inspect`) opens it as the source does (io/parquet/for-polars.ts), or polars panics on it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => (ws = workspace('sluice-panics-')));
afterAll(() => ws.cleanup());

const SINKS = ['csv', 'ndjson', 'parquet', 'arrow'] as const;
const PANIC = /panicked at|thread '<unnamed>'|not yet implemented|RUST_BACKTRACE|stack backtrace/;

/** stderr without pino's JSON log lines (the CLI logs at info): what is left must be sluice's own words. */
const words = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('{"level"'))
    .join('\n');

let ids = 0;
const line = (v: string) => `{"id":${++ids},"v":${v},"l":[${v}],"s":{"k":${v}}}`;

describe('NDJSON integers beyond int64, into every sink: only sluice\'s error, naming file, line and column', () => {
  // [cell, files (lines each), where the bad value is: file index, line, column]
  const cells: [string, string[][], number, number, string, string][] = [
    ['beyond int64 within uint64, top level, first batch', [[line('1'), '{"id":2,"v":10000000000000000000,"l":[1],"s":{"k":1}}']], 0, 2, 'v', '10000000000000000000'],
    ['beyond uint64 in a list, a later batch', [[line('1'), line('2'), line('3'), '{"id":4,"v":4,"l":[99999999999999999999],"s":{"k":4}}']], 0, 4, 'l', '99999999999999999999'],
    ['below int64 in a struct, a later file', [[line('1'), line('2')], [line('3'), '{"id":4,"v":4,"l":[4],"s":{"k":-9223372036854775809}}']], 1, 2, 's', '-9223372036854775809'],
  ];
  it.each(cells)('%s', async (name, files, badFile, badLine, column, value) => {
    const dir = path.join(ws.dir, name.replace(/\W+/g, '-'));
    mkdirSync(dir);
    const paths = files.map((lines, i) => {
      const p = path.join(dir, `part-${i}.ndjson`);
      writeFileSync(p, lines.join('\n') + '\n');
      return p;
    });
    const out = path.join(dir, 'out');
    const cfg = ws.config(
      {
        name: 'panics',
        source: { format: 'ndjson', path: path.join(dir, '*.ndjson'), batchRows: 2 },
        stages: [],
        sinks: SINKS.map((format) => ({ name: format, format, path: path.join(out, `o.${format}`) })),
      },
      `${path.basename(dir)}.config.ts`,
    );
    const r = await runCli(['run', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(PANIC);
    expect(words(r.stderr)).toMatch(new RegExp(`^sluice: ${paths[badFile]}, line ${badLine}, column "${column}": value ${value}( at \\S+)? is an integer beyond the range of int64`));
    expect(words(r.stderr).split('\n')).toHaveLength(1);
    for (const format of SINKS) expect(existsSync(path.join(out, `o.${format}`))).toBe(false);
  });

  it('with dead-letter: the lines are rejected, the rest written, exit 0, no panic text', async () => {
    const input = path.join(ws.dir, 'dead.ndjson');
    ids = 0;
    writeFileSync(input, [line('1'), line('99999999999999999999'), line('3'), line('4'), line('18446744073709551615'), line('6')].join('\n') + '\n');
    const out = path.join(ws.dir, 'dead-out');
    const cfg = ws.config(
      {
        name: 'panics-dead',
        source: { format: 'ndjson', path: input, batchRows: 2, onError: 'dead-letter' },
        stages: [],
        sink: { format: 'parquet', path: path.join(out, 'o.parquet') },
        deadLetter: { format: 'ndjson', path: path.join(out, 'rejects.ndjson') },
      },
      'dead.config.ts',
    );
    const r = await runCli(['run', cfg]);
    expect(r.stderr).not.toMatch(PANIC);
    expect(r.code).toBe(0);
    expect((await duckRows(`SELECT id FROM read_parquet('${path.join(out, 'o.parquet')}') ORDER BY id`)).map((x) => x.id)).toEqual(['1', '3', '4', '6']);
    const rejects = readFileSync(path.join(out, 'rejects.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; reason: string });
    expect(rejects.map((x) => x.line)).toEqual([2, 5]);
    for (const x of rejects) expect(x.reason).toMatch(/beyond the range of int64/);
  });
});

describe('a Parquet binary column (nodejs-polars cannot describe Binary)', () => {
  let input: string;
  beforeAll(async () => {
    input = path.join(ws.dir, 'bin.parquet');
    await duckRows(`COPY (SELECT i AS n, ('\\x00\\xff' || i::VARCHAR)::BLOB AS b FROM range(3) t(i)) TO '${input}' (FORMAT parquet)`);
  });

  it('inspect shows it, exit 0, no panic text (it was a crash with a stack trace)', async () => {
    const r = await runCli(['inspect', input]);
    expect(r.stderr).not.toMatch(PANIC);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\bb\s+\S*Binary/);
  });

  it('a Parquet append compares the schemas, and two fused inline polars stages hand the frame on: no panic text', async () => {
    const out = path.join(ws.dir, 'bin-out');
    const stage = (name: string, from: string, to: string) => ({ name, module: path.join(FIXTURE_STAGES, 'polars-step.ts'), mode: 'inline', options: { from, to } });
    const cfg = ws.config(
      { name: 'panics-bin', source: { format: 'parquet', path: input }, stages: [stage('a', 'n', 'm'), stage('b', 'm', 'k')], sink: { format: 'parquet', path: out, partitionBy: ['n'], mode: 'append' } },
      'bin.config.ts',
    );
    for (const _ of [1, 2]) {
      const r = await runCli(['run', cfg, '--quiet']);
      expect(r.stderr).not.toMatch(PANIC);
      expect(words(r.stderr)).toBe('');
      expect(r.code).toBe(0);
    }
    const rows = await duckRows(`SELECT count(*)::VARCHAR AS c, max(k)::VARCHAR AS k, count(DISTINCT b)::VARCHAR AS bs FROM read_parquet('${out}/**/*.parquet')`);
    expect(rows).toEqual([{ c: '6', k: '8.0', bs: '3' }]); // k = n × 2 × 2 (a float: polars multiplies by a JS number)
  });
});

describe('pyarrow\'s UUID (the arrow.uuid extension in the stored Arrow schema)', () => {
  const input = path.resolve(__dirname, '../fixtures/data/parquet/read-uuid.parquet');

  it('run (its column probe included) and inspect read it as text, no panic text', async () => {
    const out = path.join(ws.dir, 'uuid-out', 'o.csv');
    const cfg = ws.config({ name: 'panics-uuid', source: { format: 'parquet', path: input, columns: ['v', 'id'] }, stages: [], sink: { format: 'csv', path: out } }, 'uuid.config.ts');
    const r = await runCli(['run', cfg, '--quiet']);
    expect(r.stderr).not.toMatch(PANIC);
    expect(words(r.stderr)).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('v,id\n00000000-0000-0000-0000-000000000001,1\n,2\n00000000-0000-0000-0000-000000000002,3\n');
    const i = await runCli(['inspect', input]);
    expect(i.stderr).not.toMatch(PANIC);
    expect(i.code).toBe(0);
    expect(i.stdout).toMatch(/\bv\s+Utf8View\s+yes\s+a Parquet UUID, read as its text \(lowercase 8-4-4-4-12\)/);
  });
});
