/**
 * Which failure-matrix cells run through `sluice run` and which through `run()` in the test's
 * own process, and the in-process runner. Measured, a CLI cell cost ~1.0–1.4 CPU-s, of which
 * ~0.5 is the command starting (node, the built CLI, the config through the TS loader) before
 * it reads a row; in-process the engine is loaded once per file and the run's thread and
 * process copies start from dist/ as the CLI's do.
 *
 * A cell stays a CLI run where the process is the subject:
 * - its failure needs a process of its own: an inline stage that calls process.exit or leaves
 *   an unhandled rejection (either would end or poison the jest worker), a stage that hangs
 *   (the test's SIGTERM and exit 143, or the run seeing Node run out of work, which a jest
 *   worker never does), a sink under a file size limit (prlimit applies to a whole process);
 * - it failed before the matrix existed (the regression cells: through the command, as then);
 * - it holds a kind of failure (family and how or fault) or of ending (rows rejected, a dead
 *   copy recovered) that no cell above runs through the CLI (a cell holding a new one of each
 *   first: see cliCells): what the command adds (its exit code, stderr, the --report file) is
 *   checked on every kind.
 * Every other cell asserts the same through `run()`: how it ended (rejected: the CLI's exit 1;
 * resolved: its exit 0), its error's message (what the CLI prints after `sluice:`), the report
 * attached to it, what is left under out/ and, for onError cells, the outputs read by DuckDB.
 * Only the check for a Rust panic on stderr needs the process's own stderr: the CLI cells,
 * which hold every sink, keep it.
 */
import type { MatrixCell } from './failure-cells';
import { CELL_TIMEOUT_MS, collect, expectationOf, writeCellConfig, type Outcome } from './failure-run';
import { runInProcess } from './in-process-run';

/** Ways to fail that end, or leave a rejection in, the thread they happen in: the jest worker's own for an inline stage. */
const ENDS_ITS_THREAD = ['exit-0', 'exit-3', 'unhandled-rejection'];

/** Whether the cell's failure needs a process of its own (see the header). */
export function needsOwnProcess(cell: MatrixCell): boolean {
  if (cell.family === 'sink') return true;
  if (cell.family !== 'stage') return false;
  return cell.how === 'hang' || (cell.mode === 'inline' && ENDS_ITS_THREAD.includes(cell.how));
}

/** The kind of failure a cell has (one CLI cell each at least). */
const kindOf = (cell: MatrixCell) => `${cell.family} ${cell.family === 'stage' ? cell.how : cell.fault}`;

/** The kind of ending a cell must show: failed, rows rejected, a dead copy recovered. */
function endingOf(cell: MatrixCell): string {
  const want = expectationOf(cell, '', '');
  return want.rows ? 'rows' : want.recovered ? 'recovered' : 'failed';
}

/**
 * The cells (of `cells`, in order) that run through the CLI; the others run in process. The
 * kinds and endings no cell above has are covered by the first cells that hold a new kind and a
 * new ending at once, then by the first that hold either: each CLI cell costs a command's
 * start-up, so one cell serves both where one can (2 cells fewer than one per new kind or ending).
 */
export function cliCells(cells: MatrixCell[]): Set<MatrixCell> {
  const cli = new Set(cells.filter((c) => needsOwnProcess(c) || c.note === 'regression'));
  const covered = new Set([...cli].flatMap((c) => [kindOf(c), endingOf(c)]));
  for (const both of [true, false]) {
    for (const c of cells) {
      const news = [kindOf(c), endingOf(c)].filter((k) => !covered.has(k)).length;
      if (news === 0 || (both && news < 2)) continue;
      cli.add(c);
      covered.add(kindOf(c)).add(endingOf(c));
    }
  }
  return cli;
}

/**
 * Runs the cell through `run()` in this process. The outcome's `code` is what `sluice run`
 * exits with for it (1: run() rejected; 0: it resolved), its `stderr` the error's message and
 * the lines logged at level error, its report the one run() resolved with or attached to its
 * error. A run that does not end within CELL_TIMEOUT_MS of a fair share of the CPU is a hang.
 */
export async function runCellInProcess(cell: MatrixCell, inputs: string, cellDir: string): Promise<Outcome> {
  const started = Date.now();
  const cfg = writeCellConfig(cell, inputs, cellDir);
  const o = await runInProcess(cfg, { timeoutMs: CELL_TIMEOUT_MS });
  const hang = o.error && /did not end within/.test(o.error.message) ? `run() ${o.error.message}` : undefined;
  const said = [...(o.error ? [o.error.message] : []), ...o.logged].join('\n');
  const outcome = await collect({ code: o.error ? 1 : 0, signal: null, stdout: '', stderr: said, ...(hang && { hang }) }, cell, cellDir, undefined, started);
  return { ...outcome, report: o.report as Outcome['report'] };
}
