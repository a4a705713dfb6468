/**
 * Running a failure-matrix cell (or several through `run()` in one node process) and collecting everything its assertions look at: exit
 * code and signal, stderr, the `--report` file, and what is left under the cell's `out/`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, runCli, runNode, type CliResult, type RunOptions } from './cli';
import { BAD_LINE, FAIL_AT, ROWS, SINK_FILE_LIMIT, configOf, deadLetterPath, onErrorOf, secondSinkPath, sinkPath, type MatrixCell } from './failure-cells';
import { readOutputs, rowsExpected, type Outputs, type RowsExpected } from './failure-rows';
import { builtIsCurrent } from './package';

/** A run that outlives this is a hang (every cell's run takes 2–5 s here). */
export const CELL_TIMEOUT_MS = 30_000;

export interface Outcome extends Partial<CliResult> {
  /** Set when the run did not end by itself: the hang guard killed it. */
  hang?: string;
  report?: { ok?: boolean; error?: { message?: string }; stages?: { name: string; retries?: { retried: number } }[]; sinks?: { rows: number }[]; rejected?: { rows: number; counts: { place: string; action: string; reason: string; rows: number }[] } } | string;
  /** What the outputs hold, read by DuckDB (apache-arrow for Arrow IPC files): read when an onError cell's run exited 0. */
  outputs?: Outputs | string;
  sinkExists: boolean;
  /** With onError: 'dead-letter', whether its output exists. */
  deadLetter?: boolean;
  /** Everything under out/ (files and directories), relative. */
  leftovers: string[];
  ms: number;
}

/** What a cell must show: exit code, texts in stderr (and in the report's error message). */
export interface Expectation {
  /** The run survives the failure (a dead copy replaced, `retries`): exit 0, every row, the retry in the report. */
  recovered?: true;
  /** The run succeeds with rows rejected (onError skip / dead-letter): exactly these, and every other row in the sinks. */
  rows?: RowsExpected;
  code: number | 'non-zero';
  says: (string | RegExp)[];
  /** An equally right outcome (the first that holds wins). */
  or?: Expectation;
}

/**
 * The ways to fail that end a thread or child copy itself (what retries replace): an exit, a
 * SIGKILL, and an unhandled rejection (Node ends the thread or process it happens in).
 */
const DEATHS: string[] = ['exit-0', 'exit-3', 'sigkill', 'unhandled-rejection'];

const HOW_SAYS: Record<string, RegExp> = {
  'throw-error': /deliberate failure in matrix-fail/,
  'throw-string': /deliberate string thrown by matrix-fail/,
  'throw-undefined': /\bundefined\b/,
  'throw-cyclic': /deliberate cyclic object thrown by matrix-fail/,
  'exit-0': /exit\w*\D{0,20}\b0\b/i,
  'exit-3': /exit\w*\D{0,20}\b3\b/i,
  'unhandled-rejection': /deliberate unhandled rejection in matrix-fail/,
  sigkill: /SIGKILL/,
};

export function expectationOf(cell: MatrixCell, inputs: string, cellDir: string): Expectation {
  // onError skip / dead-letter and a failure that is some rows' fault: those rows out, the run succeeds (failure-rows.ts).
  const rows = rowsExpected(cell, inputs, cellDir, HOW_SAYS);
  if (rows) return { rows, code: 0, says: [] };
  switch (cell.family) {
    case 'stage':
      // A copy of the stateless fixture that dies in process() is replaced; it counts batches per copy, so the new one passes batch #3.
      if (cell.retries && cell.phase === 'process' && DEATHS.includes(cell.how)) return { recovered: true, code: 0, says: [] };
      // The test's SIGTERM aborts it (143); or, when nothing else keeps Node busy, the run sees
      // first that it can never finish, and fails naming the stage that holds its batch (1).
      if (cell.how === 'hang') return { code: 143, says: [/aborted/i], or: { code: 1, says: [/the run cannot finish: .*stage "boom" \(inline\).* never settled/] } };
      return { code: 'non-zero', says: ['stage "boom"', ...(cell.phase === 'process' ? [new RegExp(`batch #${FAIL_AT}\\b`)] : []), HOW_SAYS[cell.how]] };
    case 'source': {
      const file = { 'bad-value': 'in-bad.csv', 'ragged-row': 'in-ragged.csv', 'unreadable-file': 'in-trunc.csv.gz' }[cell.fault];
      return { code: 'non-zero', says: [path.join(inputs, file), ...(cell.fault === 'unreadable-file' ? [] : [`line ${BAD_LINE}`])] };
    }
    case 'sink':
      // The sink's own path, not only its temporary sibling's, and the cause.
      // With two sinks either may hit the limit first: the one that did is named.
      if (cell.shape !== 'line') return { code: 'non-zero', says: [new RegExp(`${escaped(sinkPath(cellDir, cell.sink))}|${escaped(secondSinkPath(cellDir))}`), /EFBIG|too large/i] };
      return { code: 'non-zero', says: [sinkPath(cellDir, cell.sink), /EFBIG|too large/i] };
  }
}

const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const asRegExp = (s: string | RegExp) => (typeof s === 'string' ? new RegExp(escaped(s)) : s);

/** One line of what happened (for failure messages and the summary). */
export function summaryOf(o: Outcome): string {
  const report = typeof o.report === 'string' ? o.report : JSON.stringify(o.report && { ok: o.report.ok, error: o.report.error?.message });
  const said = (o.stderr ?? '').split('\n').filter((l) => l && !l.includes('"msg":"run started"'));
  return o.hang ?? `exit ${o.code}, signal ${o.signal}, ${o.ms} ms; report ${report}; under out/: ${JSON.stringify(o.leftovers)}; stderr: ${said.slice(-6).join(' | ').slice(0, 600) || '(nothing)'}`;
}

/**
 * Everything wrong with a CLI run of a cell, in words (empty: it failed as it must). One list
 * rather than the first failed expect, so a cell's report shows all its problems at once.
 */
export function problemsOfCli(o: Outcome, want: Expectation): string[] {
  if (o.hang) return [`did not end by itself: ${o.hang.split('\n')[0]}`];
  if (want.recovered) return problemsOfRecovered(o);
  if (want.rows) return problemsOfRows(o, want.rows);
  const problems = problemsOfCliAs(o, want);
  return problems.length && want.or && problemsOfCliAs(o, want.or).length === 0 ? [] : problems;
}

function problemsOfCliAs(o: Outcome, want: Expectation): string[] {
  const problems: string[] = [];
  if (o.signal !== null) problems.push(`killed by ${o.signal} instead of exiting`);
  if (want.code === 'non-zero' ? o.code === 0 || o.code === null : o.code !== want.code) problems.push(`exit code ${o.code}, expected ${want.code}`);
  for (const s of want.says) if (!asRegExp(s).test(o.stderr ?? '')) problems.push(`stderr does not say ${s}`);
  // A thread terminated inside polars' writer panics: a Rust backtrace beside the real error.
  if (/panicked at/.test(o.stderr ?? '')) problems.push('stderr has a Rust panic (a thread was terminated inside polars)');
  if (typeof o.report === 'string') problems.push(o.report);
  else {
    if (o.report?.ok !== false) problems.push(`report ok is ${o.report?.ok}, expected false`);
    for (const s of want.says) if (!asRegExp(s).test(o.report?.error?.message ?? '')) problems.push(`report error message does not say ${s}`);
  }
  problems.push(...leftoverProblems(o));
  return problems;
}

/**
 * A run that must succeed with rows rejected: exit 0, ok, the report's counts, and what DuckDB
 * reads: exactly the rejected rows in the dead-letter output (nothing at all with skip), every
 * other row, with its values, in each sink. Rows read = rows written + rows rejected.
 */
function problemsOfRows(o: Outcome, want: RowsExpected): string[] {
  const problems: string[] = [];
  if (o.signal !== null) problems.push(`killed by ${o.signal} instead of exiting`);
  if (o.code !== 0) problems.push(`exit code ${o.code}, expected 0 (the failing rows ${want.action === 'skip' ? 'skipped' : 'dead-lettered'}, the rest written)`);
  if (/panicked at/.test(o.stderr ?? '')) problems.push('stderr has a Rust panic');
  if (typeof o.report === 'string') problems.push(o.report);
  else {
    if (o.report?.ok !== true) problems.push(`report ok is ${o.report?.ok}, expected true`);
    const rejected = o.report?.rejected;
    if (rejected?.rows !== want.rejected.length) problems.push(`the report says ${rejected?.rows} rows rejected, expected ${want.rejected.length}`);
    const wrong = rejected?.counts.filter((c) => c.place !== want.place || c.action !== want.action || !want.reason.test(c.reason)) ?? [];
    if (wrong.length) problems.push(`the report counts rejects ${JSON.stringify(wrong)}, expected place ${want.place}, action ${want.action}, reason ${want.reason}`);
    const written = o.report?.sinks?.[0]?.rows;
    if (written === undefined || written + (rejected?.rows ?? 0) !== ROWS) problems.push(`rows read ${ROWS} ≠ rows written ${written} + rows rejected ${rejected?.rows}`);
  }
  if (typeof o.outputs === 'string') problems.push(o.outputs);
  else if (o.outputs) problems.push(...want.check(o.outputs));
  else if (o.code === 0) problems.push('the outputs were not read');
  return problems;
}

/** A run that must survive its failure: exit 0, ok, every row in every sink, and the retry said. */
function problemsOfRecovered(o: Outcome): string[] {
  const problems: string[] = [];
  if (o.signal !== null) problems.push(`killed by ${o.signal} instead of exiting`);
  if (o.code !== 0) problems.push(`exit code ${o.code}, expected 0 (the dead copy replaced and its batches sent again)`);
  if (typeof o.report === 'string') problems.push(o.report);
  else {
    if (o.report?.ok !== true) problems.push(`report ok is ${o.report?.ok}, expected true`);
    const boom = o.report?.stages?.find((s) => s.name === 'boom');
    if (!boom?.retries?.retried) problems.push('the report shows no retry of stage "boom"');
    const rows = o.report?.sinks?.map((s) => s.rows) ?? [];
    if (!rows.length || rows.some((n) => n !== ROWS)) problems.push(`the sinks wrote ${JSON.stringify(rows)} rows, expected ${ROWS} each`);
    // A dead copy is no row's fault: with onError, nothing is rejected (and a dead-letter output, empty, is committed with the rest).
    if (o.report?.rejected?.rows) problems.push(`the report says ${o.report.rejected.rows} rows rejected, expected none (a dead copy is not a row error)`);
  }
  if (!o.sinkExists) problems.push('nothing at the sink path');
  if (o.deadLetter === false) problems.push('no dead-letter output was committed beside the sinks');
  return problems;
}

/** The same for a run through `run()` in a child script, which prints how the promise ended. */
export function problemsOfApi(o: Outcome, want: Expectation): string[] {
  if (o.hang) return [`did not end by itself: ${o.hang.split('\n')[0]}`];
  const line = (o.stdout ?? '').split('\n').find((l) => l.startsWith('REJECTED ') || l === 'RESOLVED');
  if (!line) return [`the promise neither resolved nor rejected; the script ended with exit ${o.code}, signal ${o.signal}`, ...leftoverProblems(o)];
  if (line === 'RESOLVED') return ['run() resolved', ...leftoverProblems(o)];
  const rejected = JSON.parse(line.slice('REJECTED '.length)) as { message: string; ok?: boolean };
  const problems: string[] = [];
  for (const s of want.says) if (!asRegExp(s).test(rejected.message)) problems.push(`the rejection's message does not say ${s}: ${JSON.stringify(rejected.message)}`);
  if (rejected.ok !== false) problems.push(`the error's report ok is ${rejected.ok}, expected false`);
  // exit 2 is the script's own, set once the promise rejected: nothing kept the process alive
  if (o.code !== 2 || o.signal !== null) problems.push(`the script ended with exit ${o.code}, signal ${o.signal} (expected 2: rejected, then nothing left running)`);
  problems.push(...leftoverProblems(o));
  return problems;
}

function leftoverProblems(o: Outcome): string[] {
  return [...(o.sinkExists ? ['something is at the sink path'] : []), ...(o.leftovers.length ? [`left under out/: ${o.leftovers.join(', ')}`] : [])];
}

/** At most `n` at once; the rest wait in order. */
export function limiter(n: number) {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active < n) active++;
    else await new Promise<void>((resolve) => queue.push(resolve)); // the slot is handed over
    try {
      return await work();
    } finally {
      const next = queue.shift();
      if (next) next();
      else active--;
    }
  };
}

/** Processes whose command line mentions `dir` (a run the hang guard orphaned): killed. */
function killStragglers(dir: string): number[] {
  const killed: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (Number(pid) !== process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) {
        process.kill(Number(pid), 'SIGKILL');
        killed.push(Number(pid));
      }
    } catch {
      // gone already, or not ours to read
    }
  }
  return killed;
}

/** What a finished run of `cell` left: its report (from `reportFile`, if given), what is under out/, and the outputs an onError cell must hold. */
export async function collect(result: Partial<CliResult> & { hang?: string }, cell: MatrixCell, cellDir: string, reportFile: string | undefined, started: number): Promise<Outcome> {
  let report: Outcome['report'];
  if (reportFile) {
    try {
      report = JSON.parse(readFileSync(reportFile, 'utf8'));
    } catch (err) {
      report = `no readable report: ${(err as Error).message}`;
    }
  }
  const out = path.join(cellDir, 'out');
  const leftovers = existsSync(out) ? readdirSync(out, { recursive: true }).map(String).sort() : [];
  const onError = onErrorOf(cell);
  const deadLetter = onError === 'dead-letter' ? existsSync(deadLetterPath(cellDir, cell.sink)) : undefined;
  const outputs = onError !== 'fail' && result.code === 0 ? await readOutputs(cell, cellDir).catch((err: Error) => `the outputs could not be read: ${err.message}`) : undefined;
  return { ...result, report, sinkExists: existsSync(sinkPath(cellDir, cell.sink)) || existsSync(secondSinkPath(cellDir)), leftovers, ...(deadLetter !== undefined && { deadLetter }), ...(outputs !== undefined && { outputs }), ms: Date.now() - started };
}

async function guarded(cellDirs: string[], run: () => Promise<CliResult>): Promise<Partial<CliResult> & { hang?: string }> {
  try {
    return await run();
  } catch (err) {
    const killed = cellDirs.flatMap(killStragglers);
    return { hang: `${(err as Error).message}${killed.length ? `\n(killed ${killed.length} orphaned process(es) of the run: ${killed.join(', ')})` : ''}` };
  }
}

/** Writes the cell's pipeline.config.ts into `cellDir` (made if missing); returns its path. */
export function writeCellConfig(cell: MatrixCell, inputs: string, cellDir: string): string {
  mkdirSync(cellDir, { recursive: true });
  const cfg = path.join(cellDir, 'pipeline.config.ts');
  writeFileSync(cfg, `import { definePipeline } from 'sluice';\nexport default definePipeline(${JSON.stringify(configOf(cell, inputs, cellDir), null, 2)} as const);\n`);
  return cfg;
}

/** Runs the cell through the CLI (`sluice run --report`), signalling it once a `hang` stage hangs. */
export async function runCellCli(cell: MatrixCell, inputs: string, cellDir: string): Promise<Outcome> {
  const started = Date.now();
  const cfg = writeCellConfig(cell, inputs, cellDir);
  const reportFile = path.join(cellDir, 'report.json');
  const opts: RunOptions = { timeoutMs: CELL_TIMEOUT_MS };
  if (cell.family === 'sink') opts.wrap = ['prlimit', `--fsize=${SINK_FILE_LIMIT}`];
  if (cell.family === 'stage' && cell.how === 'hang') {
    const marker = path.join(cellDir, 'hanging');
    opts.onSpawn = (child) => {
      // Wait for the stage to say it hangs (a condition, not a guessed delay), then SIGTERM.
      const poll = setInterval(() => existsSync(marker) && (clearInterval(poll), child.kill('SIGTERM')), 50);
      child.once('close', () => clearInterval(poll));
    };
  }
  const result = await guarded([cellDir], () => runCli(['run', cfg, '--quiet', '--report', reportFile], opts));
  return collect(result, cell, cellDir, reportFile, started);
}

/** Runs the cell through `run()` from code in a child node process; prints how the promise ended. */
export async function runCellApi(cell: MatrixCell, inputs: string, cellDir: string): Promise<Outcome> {
  return (await runCellsApi([cell], inputs, [cellDir]))[0];
}

/**
 * Runs the cells through `run()` from code, one after another in one child node process, which
 * prints how each promise ended (`<i> RESOLVED` or `<i> REJECTED <json>`) and exits 2 once one
 * rejected, if nothing is left running. For cells whose failure ends no thread (an inline
 * process.exit or unhandled rejection would end the process: one process each): had any run
 * left a handle behind, the process would not end by itself, and every cell of it fails. Each
 * cell's outcome has its own lines of stdout (without the index) and the process's exit.
 */
export async function runCellsApi(cells: MatrixCell[], inputs: string, cellDirs: string[]): Promise<Outcome[]> {
  const started = Date.now();
  const cfgs = cells.map((cell, i) => writeCellConfig(cell, inputs, cellDirs[i]));
  const script = path.join(cellDirs[0], 'api.mjs');
  writeFileSync(
    script,
    `import { run } from 'sluice';
for (const [i, config] of process.argv.slice(2).entries()) {
  await run(config).then(
    () => process.stdout.write(i + ' RESOLVED\\n'),
    (err) => {
      const report = err && err[Symbol.for('sluice.runReport')]; // the report a failed run attaches
      process.stdout.write(i + ' REJECTED ' + JSON.stringify({ message: String(err && err.message), ok: report ? report.ok : undefined }) + '\\n');
      process.exitCode = 2;
    },
  );
}\n`,
  );
  // The built package when dist/ is current (as `npm test` builds it, and as a user's script
  // gets it): from src/ the engine loads through the TS loader, seconds of CPU per cell.
  const register = pathToFileURL(path.join(REPO, builtIsCurrent() ? 'dist' : 'src', 'register.mjs')).href;
  // A hang limit for the first run, and a few seconds more for each after it (each takes 2–5 s).
  const result = await guarded(cellDirs, () => runNode(['--import', register, script, ...cfgs], { timeoutMs: CELL_TIMEOUT_MS + 10_000 * (cells.length - 1) }));
  return Promise.all(
    cells.map((cell, i) => {
      const own = (result.stdout ?? '').split('\n').flatMap((l) => (l.startsWith(`${i} `) ? [l.slice(`${i} `.length)] : []));
      return collect({ ...result, stdout: own.join('\n') }, cell, cellDirs[i], undefined, started);
    }),
  );
}
