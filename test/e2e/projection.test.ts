/**
 * Projection pushdown (check/projection.ts): when every stage says what it reads (`reads`) and
 * passes on (`outputColumns`), the source reads only the columns some stage reads or the sink
 * gets. Each cell runs the job declared and checks: the stages saw only the needed columns (a
 * stage records the columns of every batch it gets), the output is the source's own values,
 * row for row (read back by DuckDB, or polars for Arrow, not by sluice), and `explain` names
 * what was left out; the first cell of each source format also runs it undeclared, which must
 * give every column to the stages and the same rows. A stage that asks for a column it did not
 * list fails loudly, naming the stage and the column, even when its code would cope with the
 * column missing; a column absent for any other reason is left alone.
 *
 * Cells: every pair of (source format, mode of the first stage, mode of the second, sink
 * format) at least once (test/helpers/pairwise.ts; the full product is 144 runs pairs), which
 * includes the CSV parsed in the first stage's threads (fused) and the two thread stages fused
 * into one worker; and Hive directories, where a column comes from the path, kept and left out
 * (each declared job of a pair of modes compared with one run of that pair without pushdown).
 * Every stage runs one copy: what a copy is given does not depend on how many there are.
 *
 * The subject is the engine's projection, not the command around it: the jobs run in this
 * process through `run()` (test/helpers/in-process-run.ts: the checks, the plan and the run as
 * `sluice run` makes them; thread and process copies started from dist/ as the CLI's are), and
 * `explain`'s text comes from the calls `sluice explain` makes (test/helpers/in-process.ts): a
 * CLI start costs about a second of CPU before it reads a row. The CLI's own part is kept in
 * one cell of each kind: the first pairwise cell runs `sluice run --report` and `sluice explain`
 * (exit 0, an empty stderr, `source.leftOut` in the report file), the first loud cell `sluice
 * run` (exit 1, the message on stderr, once), and `validate` is a CLI command. In process, "an
 * empty stderr" is no log line at level error (what `--log-level error` would print) and no
 * error; a failed run's message is its error's, which the CLI prints after `sluice:`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pl from 'nodejs-polars';
import { runCli } from '../helpers/cli';
import { explainInProcess } from '../helpers/in-process';
import { runInProcess } from '../helpers/in-process-run';
import { duckRows } from '../helpers/duckdb';
import { pairwise } from '../helpers/pairwise';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

const ROWS = 3000;
const FORMATS = ['csv', 'parquet', 'ndjson', 'arrow'] as const;
const MODES = ['inline', 'thread', 'process'] as const;
const SINKS = ['parquet', 'csv', 'ndjson', 'arrow'] as const;
const FILE = { csv: 'in.csv', parquet: 'in.parquet', ndjson: 'in.ndjson', arrow: 'in.arrow' } as const;

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-projection-');
  // `note` is the costly kind of column a job rarely reads: quotes, commas, line breaks.
  const df = pl.DataFrame({
    id: Array.from({ length: ROWS }, (_, i) => i),
    name: Array.from({ length: ROWS }, (_, i) => `n${i % 97}`),
    x: Array.from({ length: ROWS }, (_, i) => i * 0.25),
    day: Array.from({ length: ROWS }, (_, i) => `2026-11-${String(1 + (i % 28)).padStart(2, '0')}`),
    note: Array.from({ length: ROWS }, (_, i) => `line ${i}, "quoted"\nsecond line`),
  });
  df.writeCSV(path.join(ws.dir, FILE.csv));
  df.writeParquet(path.join(ws.dir, FILE.parquet));
  df.writeJSON(path.join(ws.dir, FILE.ndjson), { format: 'lines' });
  df.writeIPC(path.join(ws.dir, FILE.arrow));
  // The same rows in Hive directories: `day` comes from the path, not the files.
  for (const [day, part] of df.partitionBy('day', true, true).map((p) => [p.getColumn('day').get(0), p] as const)) {
    mkdirSync(path.join(ws.dir, 'hive', `day=${day}`), { recursive: true });
    part.drop('day').writeParquet(path.join(ws.dir, 'hive', `day=${day}`, 'part.parquet'));
  }
});
afterAll(() => ws.cleanup());

type Format = (typeof FORMATS)[number];
type Mode = (typeof MODES)[number];
type SinkFormat = (typeof SINKS)[number];

/** The job: a stage that adds x2 from x and passes the rest on, then one that keeps id, x2 and day. */
/** `job`: the sink's format (Parquet), the source path (the format's file), the columns the second stage emits (id, x2, day). */
function config(
  name: string,
  format: Format,
  modes: [Mode, Mode],
  declared: boolean | 'wrong',
  first: { lenient?: boolean | 'rows'; from?: string } = {},
  job: { sink?: SinkFormat; source?: string; emit?: string[] } = {},
) {
  const sink = job.sink ?? 'parquet';
  const seenFile = path.join(ws.dir, `${name}.seen.jsonl`);
  const stage = (stageName: string, mode: Mode, out: 'add' | 'pick', reads: string[], more = {}) => ({
    name: stageName,
    module: path.join(FIXTURE_STAGES, 'reads-probe.ts'),
    mode,
    // One copy: what a copy is given does not depend on how many there are, and each extra
    // copy costs its start-up (~0.25 CPU-s a thread, ~0.6 a child) in each of ~35 runs.
    concurrency: 1,
    options: { seenFile, out, ...(declared && { reads }), ...more },
  });
  const file = ws.config(
    {
      name,
      source: { format, path: job.source ?? FILE[format], batchRows: 500 },
      // 'wrong': the first stage says it reads nothing, and reads x.
      stages: [stage('a', modes[0], 'add', declared === 'wrong' ? [] : ['x'], first), stage('b', modes[1], 'pick', job.emit ?? ['id', 'x2', 'day'], job.emit && { emit: job.emit })],
      sink: { format: sink, path: `out/${name}.${sink}` },
    },
    `${name}.config.ts`,
  );
  return { file, seenFile, output: path.join(ws.dir, 'out', `${name}.${sink}`) };
}

/** The output's rows (id, x2, day), by id, read by DuckDB, or by polars for Arrow IPC (DuckDB has no offline IPC reader): not by sluice. */
async function readBack(file: string): Promise<Record<string, unknown>[]> {
  if (file.endsWith('.arrow')) {
    const df = pl.readIPC(readFileSync(file)).sort('id'); // a Buffer: polars takes a path not ending in .ipc for the file's text
    // A CSV source infers `day` as a date: as DuckDB's day::VARCHAR gives it.
    return df.toRecords().map((r) => ({ id: String(r.id), x2: r.x2, day: Object.prototype.toString.call(r.day) === '[object Date]' ? (r.day as unknown as Date).toISOString().slice(0, 10) : r.day }));
  }
  const from = file.endsWith('.csv') ? `read_csv('${file}', types = {'day': 'VARCHAR'})` : file.endsWith('.ndjson') ? `read_json('${file}', format = 'newline_delimited')` : `read_parquet('${file}')`;
  return duckRows(`SELECT id::BIGINT AS id, x2, day::VARCHAR AS day FROM ${from} ORDER BY id`);
}

function seen(file: string): Map<string, Set<string>> {
  const by = new Map<string, Set<string>>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const { stage, columns } = JSON.parse(line) as { stage: string; columns: string[] };
    by.set(stage, (by.get(stage) ?? new Set()).add(columns.join(',')));
  }
  return by;
}

const cells = pairwise({ format: FORMATS, a: MODES, b: MODES, sink: SINKS });

it('covers every pair of source format, modes and sink format', () => {
  expect(cells.length).toBeLessThan(FORMATS.length * MODES.length * MODES.length * SINKS.length);
  for (const f of FORMATS) for (const m of MODES) expect(cells.some((c) => c.format === f && (c.a === m || c.b === m))).toBe(true);
  for (const k of SINKS) for (const f of FORMATS) expect(cells.some((c) => c.sink === k && c.format === f)).toBe(true);
  for (const k of SINKS) for (const m of MODES) expect(cells.some((c) => c.sink === k && c.a === m) && cells.some((c) => c.sink === k && c.b === m)).toBe(true);
});

/** The rows the job must write: id, x2 = 2x and day, from the values the source file was made of. */
const expected = Array.from({ length: ROWS }, (_, i) => ({ id: String(i), x2: i * 0.5, day: `2026-11-${String(1 + (i % 28)).padStart(2, '0')}` }));

// The same job without pushdown (nothing declared) runs beside it in the first cell of each
// source format: every column reaches the stages, and both write the same rows.
const withBaseline = new Set(FORMATS.map((f) => cells.find((c) => c.format === f)));

/** `sluice explain <file>` through the CLI, or its text made in this process (test/helpers/in-process.ts). */
const explain = async (file: string, viaCli: boolean) => (viaCli ? runCli(['explain', file]) : { code: 0, stdout: await explainInProcess(file) });

/**
 * A job, through `sluice run --quiet --log-level error --report` or in this process: whether it
 * succeeded, what it said (the CLI's stderr; in process, the error's message or the log lines
 * at level error) and the report's `source.leftOut`.
 */
async function runJob(file: string, viaCli: boolean): Promise<{ ok: boolean; said: string; leftOut: unknown }> {
  if (viaCli) {
    const report = `${file}.report.json`;
    const r = await runCli(['run', file, '--quiet', '--log-level', 'error', '--report', report]);
    return { ok: r.code === 0, said: r.stderr, leftOut: JSON.parse(readFileSync(report, 'utf8')).source?.leftOut };
  }
  const o = await runInProcess(file);
  return { ok: !o.error, said: o.error ? o.error.message : o.logged.join('\n'), leftOut: o.report?.source.leftOut };
}

describe.each(cells)('$format source, a $a, b $b, $sink sink', (cell) => {
  const { format, a, b, sink } = cell;
  const viaCli = cell === cells[0];
  it('reads only the columns the stages read, and writes the source\'s rows' + (withBaseline.has(cell) ? ', the same as without pushdown' : ''), async () => {
    const name = `p-${format}-${a}-${b}-${sink}`;
    const on = config(`${name}-on`, format, [a, b], true, {}, { sink });
    const off = withBaseline.has(cell) ? config(`${name}-off`, format, [a, b], false, {}, { sink }) : undefined;

    const explained = await explain(on.file, viaCli);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toContain('columns: id, x, day; left out, as no stage reads them and the sink does not get them');
    expect(explained.stdout).toMatch(/: name, note\n/);
    if (off) expect((await explain(off.file, viaCli)).stdout).not.toContain('left out');

    const runs = off ? [on, off] : [on];
    const leftOut: unknown[] = [];
    for (const run of runs) {
      // The first cell's declared job through the CLI (its exit code, stderr and --report file); the rest in process.
      const r = await runJob(run.file, viaCli && run === on);
      expect({ ok: r.ok, said: r.said }).toEqual({ ok: true, said: '' });
      leftOut.push(r.leftOut);
    }
    expect(leftOut).toEqual([['name', 'note'], undefined].slice(0, runs.length));
    // What each stage received, batch after batch.
    expect(seen(on.seenFile)).toEqual(new Map([['a', new Set(['id,x,day'])], ['b', new Set(['id,x,day,x2'])]]));
    if (off) expect(seen(off.seenFile)).toEqual(new Map([['a', new Set(['id,name,x,day,note'])], ['b', new Set(['id,name,x,day,note,x2'])]]));

    // Read back independently (not by sluice): the source's rows, and the same without pushdown.
    const [withPushdown, without] = await Promise.all(runs.map((run) => readBack(run.output)));
    expect(withPushdown).toEqual(expected);
    if (off) expect(without).toEqual(withPushdown);
    for (const run of runs) rmSync(run.output);
  });
});

/**
 * A stage that asks for a column it did not list fails loudly, naming the stage and the column,
 * even when its code would cope with the column missing (`getChild(…)?.toArray() ?? zeros`, or
 * `row.x ?? 0`): without the guard each of these exits 0 with x2 = 0 in every row, a changed
 * value, silently. (A stage that would throw on the missing column is not run apart: its
 * getChild() meets the same guard first, and these cells are the stricter test, as they pass
 * only through the guard.) In every mode, including threads that parse the CSV themselves
 * (thread, thread: fused).
 */
it('fails loudly when a stage reads a column it did not list, even one that would cope with it missing, in every mode: its error, and what the source left out', async () => {
  const cells = [['inline', 'process', true], ['thread', 'thread', true], ['process', 'inline', true], ['thread', 'inline', 'rows'], ['process', 'thread', 'rows']] as const;
  for (const [a, b, lenient] of cells) {
    const job = config(`lenient-${a}-${b}-${lenient}`, 'csv', [a, b], 'wrong', { lenient });
    // The first through the CLI (exit 1, the message on stderr), the others in process (the run's error).
    const viaCli = a === cells[0][0] && b === cells[0][1];
    const r = viaCli ? await runCli(['run', job.file, '--quiet']).then((c) => ({ failed: c.code === 1, said: c.stderr })) : await runInProcess(job.file).then((o) => ({ failed: !!o.error, said: o.error?.message ?? '' }));
    expect({ failed: r.failed, stage: r.said.includes('stage "a"') }).toEqual({ failed: true, stage: true });
    expect(r.said).toContain(`column "x" is not in the batch: the source did not read it, as no stage lists it in its reads() and the sink does not get it (projection pushdown); list it in this stage's reads(options)`);
    expect(r.said).not.toContain('note: the source did not read'); // the error already says it
    expect(ws.outFiles()).not.toContain(`lenient-${a}-${b}-${lenient}.parquet`);
  }
});

it('leaves a column that is absent for another reason alone: a stage coping with it runs as it would without pushdown', async () => {
  // `ghost` is in no file: asking for it gives null (a row: undefined) as always, with columns left out or not.
  for (const [a, b, lenient] of [['thread', 'thread', true], ['process', 'inline', true], ['inline', 'thread', 'rows']] as const) {
    const job = config(`ghost-${a}-${b}-${lenient}`, 'csv', [a, b], true, { lenient, from: 'ghost' });
    const r = await runJob(job.file, false);
    expect({ ok: r.ok, said: r.said }).toEqual({ ok: true, said: '' });
    expect(seen(job.seenFile).get('a')).toEqual(new Set(['id,x,day']));
    const rows = await duckRows(`SELECT count(*)::INTEGER AS n, sum(x2)::DOUBLE AS total FROM read_parquet('${job.output}')`);
    expect(rows).toEqual([{ n: ROWS, total: 0 }]);
  }
});

/**
 * Hive directories, `day` from the path: b emitting (id, x2, day) and (id, x2), each declared,
 * against one run without pushdown per pair of modes (b emitting all three: the two-column
 * output must equal its id and x2).
 */
describe.each([
  ['thread', 'process'],
  ['process', 'inline'],
] as const)('Hive directories (day from the path), a %s, b %s', (a, b) => {
  const EMITS = [
    [['id', 'x2', 'day'], ['name', 'note'], 'id,x,day'],
    [['id', 'x2'], ['name', 'note', 'day'], 'id,x'],
  ] as const;
  const name = `hive-${a}-${b}`;
  const runHive = async (emit: readonly string[], declared: boolean) => {
    const job = config(`${name}-${emit.length}-${declared ? 'on' : 'off'}`, 'parquet', [a, b], declared, {}, { source: 'hive/**/*.parquet', emit: [...emit] });
    const r = await runJob(job.file, false);
    expect({ ok: r.ok, said: r.said }).toEqual({ ok: true, said: '' });
    return { ...job, leftOut: r.leftOut };
  };
  let without: ReturnType<typeof runHive> | undefined;
  const query = (file: string, emit: readonly string[]) => duckRows(`SELECT ${emit.map((c) => (c === 'id' ? 'id::BIGINT AS id' : c)).join(', ')} FROM read_parquet('${file}') ORDER BY id`);

  it.each(EMITS)('b emitting %j: leaves out %j, the same rows as without pushdown', async (emit, leftOut, seenByA) => {
    const off = await (without ??= runHive(EMITS[0][0], false));
    const on = await runHive(emit, true);
    expect([on.leftOut, off.leftOut]).toEqual([leftOut, undefined]);
    expect(seen(on.seenFile).get('a')).toEqual(new Set([seenByA]));
    const [withPushdown, withoutPushdown] = await Promise.all([query(on.output, emit), query(off.output, emit)]);
    expect(withPushdown).toHaveLength(ROWS);
    expect(withPushdown).toEqual(withoutPushdown);
    expect(withPushdown[7]).toEqual({ id: '7', x2: 3.5, ...((emit as readonly string[]).includes('day') && { day: '2026-11-08' }) });
  });
});

it('validate refuses a name in reads() that the stage does not receive', async () => {
  const job = config('misspelt', 'csv', ['inline', 'inline'], true);
  const text = readFileSync(job.file, 'utf8').replace('"reads": [\n          "x"\n        ]', '"reads": [\n          "xx"\n        ]');
  const file = path.join(ws.dir, 'misspelt-2.config.ts');
  writeFileSync(file, text);
  const r = await runCli(['validate', file]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`stages[0].module: the stage's reads(options): column "xx" is not in the source (columns: id, name, x, day, note; did you mean "x"?)`);
});
