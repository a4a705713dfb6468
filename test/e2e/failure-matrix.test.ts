/**
 * The failure matrix (issue 9): whatever fails, wherever and however, the run ends by itself
 * within seconds, exits non-zero (143 after the SIGTERM that ends a hung stage) without being
 * killed, names the culprit (stage "boom" and batch #3; the input file and line; the sink's
 * path), writes `--report` with `ok: false` and the message, and leaves nothing at the sink
 * path or beside it (nothing at all under out/). A few cells also run through `run()` from
 * code, whose promise must reject (not resolve, hang, or end the process).
 *
 * Dimensions, in two sets; each has only the dimensions that mean something for it, so a
 * meaningless cell (a source failure "by process.exit", SIGKILL of a child in inline or
 * thread mode) is never built rather than skipped:
 * - a stage fails: phase (setup / process, at batch #3 / flush) × mode (inline / thread /
 *   process) × position (first / middle / last) × how (throw an Error, a string, undefined, a
 *   cyclic object; process.exit(0) / (3); an unhandled rejection; a promise that never
 *   settles, ended by SIGTERM; SIGKILL of its own process, process mode only) × the healthy
 *   stages' mode (inline / the same) × source thread on/off × sink × the run's graph (a line;
 *   a second sink on the same stage; a second sink on the first stage: two branches) × the
 *   failing stage's retries (0 / 1: a copy that dies in process(), by an exit, a SIGKILL or an
 *   unhandled rejection, is replaced, and since the fixture, stateless here, counts batches per
 *   copy the run then succeeds: exit 0, every row, the retry in the report; every other way
 *   still fails as with 0; a stage with flush is never replayed) × onError (fail / skip /
 *   dead-letter: see below);
 * - the source or the sink fails: where (a bad value / a ragged row at line 352 / a .csv.gz cut
 *   off / the sink's writes, under a file size limit: EFBIG) × the stage's mode × source thread
 *   on/off × sink × the run's graph × onError (the source's; for the sink, the source's and the stage's);
 * sinks: Parquet, CSV, NDJSON, Arrow, partitioned Parquet.
 *
 * onError, expected from what failed, not from what the engine does (test/helpers/failure-rows.ts):
 * with skip or dead-letter, a stage that THROWS in process() does so on the rows BAD_IDS (a
 * per-row rule in the fixture, so the halves of a bisected batch fail as the batch did) and
 * exactly those rows are rejected, or every row of the batches holding them when the stage has
 * flush (state: its parts cannot be run again); a bad value or a ragged row rejects that line.
 * The run then exits 0; DuckDB reads exactly the rejected rows in the dead-letter output (with
 * file, line or source row, stage, reason; none at all with skip) and exactly every other row,
 * values unchanged, in each sink downstream of the failure (every row upstream); rows read =
 * written + rejected. A copy that DIES, a hang, a failure in setup or flush, an unreadable file,
 * a failing sink are no row's fault: retries decide, and the run fails (the dead-letter output
 * left unwritten like every sink) or recovers exactly as with fail.
 *
 * PAIRWISE, not the full product: the stage set alone is 9 × 5 × 3 × 3 × 3 × 2 × 2 × 3 × 2 = 29 160
 * runs of a few seconds each, hours. Every pair of values of any two dimensions occurs in at
 * least one cell (test/helpers/pairwise.ts, deterministic; its unit test checks the coverage),
 * which catches every failure that needs two things to meet; a failure that needs three (the
 * one that started this issue: an inline stage × the source thread × a text sink) is caught
 * only if some cell happens to hold all three, so the cells known to have failed before are
 * added by hand (regressions, first), and the fused paths (parsing in a stage's copies; adjacent
 * thread stages in one worker) by hand too, and the onError cells that must hold whatever
 * pairwise picks (the first regression and the fused parse with rows to reject: the fused
 * parse once rejected whole chunks of CSV text as one row each; a stateless stage in each mode;
 * a stage with state; a dead copy with a dead-letter output, replaced or not). The pairwise
 * cells are made around the hand-picked ones (whose pairs count as covered: no cell is spent on
 * a pair they hold), so the whole set covers every pair; the graph, retries and onError
 * dimensions cost few cells, as a pairwise set absorbs new dimensions in the cells it has.
 * test/unit/helpers/pairwise.test.ts checks the coverage of the whole set.
 *
 * THROUGH THE CLI OR IN PROCESS (test/helpers/failure-in-process.ts): a cell runs `sluice run`
 * where the process is the subject (a failure that needs a process of its own: an inline exit
 * or unhandled rejection, a hang and its SIGTERM, a sink under a file size limit), for the
 * regression cells, and for a cell of each kind of failure and of ending that no other CLI
 * cell has (one cell for a new kind and a new ending where one holds both; the command's exit
 * code, stderr and --report checked on every kind); every other cell runs `run()` in this
 * process and asserts the same of it (rejected or resolved, the error's message, the report,
 * what is left, the outputs), for about half the CPU.
 *
 * Cells run two at a time (a 2-core machine), started in beforeAll, which awaits the in-process
 * ones (they load the config and inline stages through jest's require, which jest refuses
 * between tests); each test awaits its own cell and asserts with one list of problems, so a
 * failing cell says everything wrong at once.
 * SLUICE_MATRIX_SUMMARY=<file> writes one line per cell (pass/FAIL, problems, what was seen).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { allCells, writeInputs, type MatrixCell } from '../helpers/failure-cells';
import { cliCells, needsOwnProcess, runCellInProcess } from '../helpers/failure-in-process';
import { CELL_TIMEOUT_MS, expectationOf, limiter, problemsOfApi, problemsOfCli, runCellApi, runCellCli, runCellsApi, summaryOf, type Outcome } from '../helpers/failure-run';
import { workspace, type Workspace } from '../helpers/workspace';

const cells = allCells();
/** Through the programmatic API as well: the first regression and one cell per kind of ending. */
const apiCells: MatrixCell[] = [
  cells[0],
  ...(['exit-0', 'unhandled-rejection', 'throw-undefined', 'sigkill'] as const).map((how) => cells.find((c) => c.family === 'stage' && c.how === how && c.retries === 0)!),
  cells.find((c) => c.family === 'source')!,
];

const viaCli = cliCells(cells);

let ws: Workspace;
/**
 * `via`: `sluice run`, `run()` in this process, or `run()` from a script in a node process:
 * one of its own for a failure that may end it (an inline exit or unhandled rejection), one
 * for all the others, their runs one after another (runCellsApi: had one left anything
 * running, the process would not end by itself, and each of them fails).
 */
type Via = 'cli' | 'in-process' | 'api';
const runs: { name: string; cell: MatrixCell; dir: string; via: Via; outcome?: Promise<Outcome> }[] = [
  ...cells.map((cell, i) => ({ name: `cell ${cell.id}${viaCli.has(cell) ? '' : ' (run() in process)'}`, cell, dir: `cell-${String(i).padStart(3, '0')}`, via: (viaCli.has(cell) ? 'cli' : 'in-process') as Via })),
  ...apiCells.map((cell, i) => ({ name: `run() from code, cell ${cell.id}`, cell, dir: `api-${i}`, via: 'api' as const })),
];
const runner = { cli: runCellCli, 'in-process': runCellInProcess, api: runCellApi };
const inProcess = runs.filter((r) => r.via === 'in-process');
const apiTogether = runs.filter((r) => r.via === 'api' && !needsOwnProcess(r.cell));

beforeAll(async () => {
  ws = workspace('sluice-matrix-');
  writeInputs(ws.dir);
  const slot = limiter(2);
  // The in-process cells first: this hook awaits them; the CLI and API cells go on in their own processes.
  for (const r of [...inProcess, ...runs.filter((r) => r.via !== 'in-process' && !apiTogether.includes(r))]) r.outcome = slot(() => runner[r.via](r.cell, ws.dir, path.join(ws.dir, r.dir)));
  const together = slot(() => runCellsApi(apiTogether.map((r) => r.cell), ws.dir, apiTogether.map((r) => path.join(ws.dir, r.dir))));
  for (const [i, r] of apiTogether.entries()) r.outcome = together.then((o) => o[i]);
  await Promise.all(inProcess.map((r) => r.outcome));
}, inProcess.length * CELL_TIMEOUT_MS);
afterAll(async () => {
  const settled = await Promise.all(runs.map((r) => r.outcome));
  // SLUICE_MATRIX_SUMMARY=<file>: one line per cell (what the lead reads after a change).
  const file = process.env.SLUICE_MATRIX_SUMMARY;
  if (file)
    writeFileSync(
      file,
      runs
        .map((r, i) => {
          const o = settled[i]!;
          const problems = (r.via === 'api' ? problemsOfApi : problemsOfCli)(o, expectationOf(r.cell, ws.dir, path.join(ws.dir, r.dir)));
          return `${problems.length ? 'FAIL' : 'pass'} ${r.name}\n${problems.length ? `     ${problems.join('; ')}\n     ${summaryOf(o)}\n` : ''}`;
        })
        .join(''),
    );
  ws.cleanup();
});

/** A test waits for at most two cells ahead of its own: two hangs at most. */
const TEST_TIMEOUT_MS = 3 * CELL_TIMEOUT_MS + 10_000;

describe.each(runs.filter((r) => r.via !== 'api'))('$name', (r) => {
  const { recovered, rows } = expectationOf(r.cell, '', '');
  const cli = r.via === 'cli';
  const title = rows
    ? `survives: exactly the failing rows ${rows.action === 'skip' ? 'skipped' : 'dead-lettered'}, every other row in every sink (read by DuckDB), rows read = written + rejected`
    : recovered
      ? `survives: the dead copy is replaced, ${cli ? 'exit 0' : 'run() resolves'}, every row in every sink, the retry in the report`
      : cli
        ? 'ends by itself, exits non-zero (143 after SIGTERM), names the culprit, reports ok: false, leaves nothing'
        : 'run() rejects by itself, its error names the culprit, its report says ok: false, leaves nothing';
  it(title, async () => {
    const o = await r.outcome!;
    const problems = problemsOfCli(o, expectationOf(r.cell, ws.dir, path.join(ws.dir, r.dir)));
    expect(problems.length ? [...problems, `observed: ${summaryOf(o)}`] : []).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

describe.each(runs.filter((r) => r.via === 'api'))('$name', (r) => {
  it('rejects (neither resolves, nor hangs, nor ends the process), names the culprit, leaves nothing', async () => {
    const o = await r.outcome!;
    const problems = problemsOfApi(o, expectationOf(r.cell, ws.dir, path.join(ws.dir, r.dir)));
    expect(problems.length ? [...problems, `observed: ${summaryOf(o)}; stdout: ${o.stdout}`] : []).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
