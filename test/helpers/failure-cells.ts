/**
 * The failure matrix's cells: what fails (a stage, the source, the sink), how, and what the
 * run must say about it. Each family has only the dimensions that mean something for it, so
 * meaningless cells (a source failure "thrown by process.exit", SIGKILL of a child in inline
 * or thread mode) are never built rather than skipped.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { HOWS, type How, type Phase } from '../fixtures/stages/matrix-fail';
import { pairwise, type Validity } from './pairwise';
import { FIXTURE_STAGES } from './workspace';

export const MODES = ['inline', 'thread', 'process'] as const;
export const SINKS = ['parquet', 'csv', 'ndjson', 'arrow', 'partitioned-parquet'] as const;
export type Mode = (typeof MODES)[number];
export type SinkKind = (typeof SINKS)[number];

/** The batch a `process`-phase failure happens on: the fourth of six (600 rows, 100 per batch). */
export const FAIL_AT = 3;
export const ROWS = 600;
export const BATCH_ROWS = 100;
/** Data line (1-based, header is line 1) of the bad row in the source-failure inputs: in batch #3. */
export const BAD_LINE = 2 + 350;
/** Per-file size limit for the sink-failure cells (bytes): every sink's output is bigger. */
export const SINK_FILE_LIMIT = 24 * 1024;

/** `others`: the mode of the healthy stages around the failing one (inline, or the failing stage's own). */
/**
 * The run's graph: `line` (one sink after the last stage), `two-sinks` (a second sink, NDJSON,
 * reading the same last stage: fan-out of one stage), `branches` (the second sink reads the
 * first stage's output: two branches of different lengths). Every sink sits under out/, so
 * "nothing left under out/" covers both, and a failure anywhere must leave both untouched.
 */
export const SHAPES = ['line', 'two-sinks', 'branches'] as const;
export type Shape = (typeof SHAPES)[number];
/**
 * `retries`: the failing stage's `retries` (1: a copy that dies is replaced and its batches sent
 * again). The fixture counts batches per copy, so a replacement never reaches the failing
 * batch number: a death in process() is survived (the run must succeed with every row and say
 * it retried); a death in setup or flush, a throw, a hang are not retried (the run fails as with 0).
 */
/**
 * `onError` (absent: 'fail', the default): of the failing stage (stage cells), of the source
 * (source cells), of the source and the stage (sink cells); with 'dead-letter' the run has a
 * dead-letter output under out/, in the sink's format. What a cell must then show is decided
 * by what failed, not by onError alone (failure-run.ts, expectationOf): a stage that throws in
 * process() on rows has exactly those rows rejected and the run succeeds; a whole batch when
 * the stage has flush (state: its parts cannot be run again); a dead copy, a hang, a failure
 * in setup or flush, an unreadable file, a failing sink are no row's fault: the run fails (or
 * recovers through retries) exactly as with 'fail', the dead-letter output included in
 * "nothing left".
 */
export const ON_ERRORS = ['fail', 'skip', 'dead-letter'] as const;
export type OnError = (typeof ON_ERRORS)[number];
/**
 * The rows (by `id`) the failing stage throws on in the onError cells: hidden in batches #1
 * and #3 (ids 100–199 and 300–399), two in one batch, so a bisection must find two rows apart
 * in one batch, and a stage with state must reject two whole batches.
 */
export const BAD_IDS = [142, 301, 398] as const;
/**
 * `stateless`: the failing stage is the fixture without flush (matrix-fail-stateless.ts) even
 * with retries 0 (what the hand-made onError cells use to have rows rejected one by one in
 * inline mode, where retries do not apply).
 */
export type StageCell = { family: 'stage'; phase: Phase; mode: Mode; position: 'first' | 'middle' | 'last'; how: How; others: 'inline' | 'same'; sourceThread: boolean; sink: SinkKind; shape: Shape; retries: 0 | 1; onError?: OnError; stateless?: true };
export type SourceCell = { family: 'source'; fault: 'bad-value' | 'ragged-row' | 'unreadable-file'; mode: Mode; sourceThread: boolean; sink: SinkKind; shape: Shape; onError?: OnError };
/** The sink's writes fail: the file size limit (RLIMIT_FSIZE, EFBIG) is below the output's size. */
export type SinkCell = { family: 'sink'; fault: 'write-fails'; mode: Mode; sourceThread: boolean; sink: SinkKind; shape: Shape; onError?: OnError };
export type MatrixCell = (StageCell | SourceCell | SinkCell) & { id: string; note?: string };

/** A cell's name, its values in one fixed order: `stage process inline last throw-error others=inline source-thread=on csv`. */
const ORDER = ['fault', 'phase', 'mode', 'position', 'how', 'others', 'sourceThread', 'sink', 'shape', 'retries', 'onError', 'stateless'];
const name = (c: Record<string, unknown>) =>
  ORDER.filter((k) => k in c)
    .filter((k) => (k !== 'shape' || c[k] !== 'line') && (k !== 'retries' || c[k] !== 0) && (k !== 'onError' || c[k] !== 'fail')) // what every cell was before the graph, retries and onError
    .map((k) => (k === 'sourceThread' ? `source-thread=${c[k] ? 'on' : 'off'}` : k === 'stateless' ? 'stateless' : k === 'others' || k === 'shape' || k === 'retries' || k === 'onError' ? `${k}=${c[k]}` : String(c[k])))
    .join(' ');

export const STAGE_DIMS = { how: HOWS, sink: SINKS, mode: MODES, position: ['first', 'middle', 'last'] as const, phase: ['setup', 'process', 'flush'] as const, others: ['inline', 'same'] as const, sourceThread: [true, false], shape: SHAPES, retries: [0, 1] as const, onError: ON_ERRORS };
/** SIGKILL of a child exists only where the stage has a process of its own; an inline stage has no copy to replace (retries do not apply). */
export const stageCellValid: Validity<typeof STAGE_DIMS> = (c) => !(c.how === 'sigkill' && c.mode !== undefined && c.mode !== 'process') && !(c.retries === 1 && c.mode === 'inline');

/**
 * A cell's values of `dims` only (its family and note dropped): what pairwise() compares. A cell
 * without `onError` runs with the default, 'fail', and holds that value's pairs: left absent, its
 * pairs were never counted and pairwise spent cells on them again.
 */
export const valuesOf = <D extends Record<string, readonly unknown[]>>(dims: D, cell: object) => {
  const c = { onError: 'fail', ...cell } as Record<string, unknown>;
  return Object.fromEntries(Object.keys(dims).map((k) => [k, c[k]])) as never;
};

/**
 * The pairwise stage cells beyond the hand-picked ones (regressions, fused paths, onError
 * cells), whose pairs count as covered: 33 cells where a cover of its own takes 45 (the same
 * pairs; 38 while the onError cells' pairs and the 'fail' of the others were not counted).
 */
export function stageCells(): StageCell[] {
  const handPicked = [...regressionCells(), ...fusedCells().filter((c): c is StageCell => c.family === 'stage'), ...onErrorCells()].map((c) => valuesOf(STAGE_DIMS, c));
  return pairwise(STAGE_DIMS, stageCellValid, handPicked).map((c) => ({ family: 'stage', ...c }));
}

/**
 * Source and sink failures in one pairwise set (the matrix's "where" beyond the stages), so
 * each sink meets each of the four failures once: 18 cells beside the 2 hand-picked ones (20 alone, the fewest 4 × 5 allows), where two sets would need 30.
 */
export const IO_DIMS = { where: ['bad-value', 'ragged-row', 'unreadable-file', 'sink-write'] as const, sink: SINKS, mode: MODES, sourceThread: [true, false], shape: SHAPES, onError: ON_ERRORS };

export function ioCells(): (SourceCell | SinkCell)[] {
  // The fused-parse source cells are hand-picked: their pairs count as covered.
  const handPicked = fusedCells()
    .filter((c): c is SourceCell => c.family === 'source')
    .map((c) => valuesOf(IO_DIMS, { ...c, where: c.fault }));
  return pairwise(IO_DIMS, undefined, handPicked).map(({ where, ...rest }) => (where === 'sink-write' ? { family: 'sink', fault: 'write-fails', ...rest } : { family: 'source', fault: where, ...rest }));
}

/** Cells that failed before the matrix existed (issue 9), kept whatever pairwise picks. */
export function regressionCells(): StageCell[] {
  const inlineThrow = (sink: SinkKind): StageCell => ({ family: 'stage', phase: 'process', mode: 'inline', position: 'last', how: 'throw-error', others: 'inline', sourceThread: true, sink, shape: 'line', retries: 0 });
  return [
    inlineThrow('csv'),
    inlineThrow('ndjson'),
    inlineThrow('arrow'),
    // a thread stage failing after an inline stage ("position last": the inline neighbour runs first)
    { family: 'stage', phase: 'process', mode: 'thread', position: 'last', how: 'throw-error', others: 'inline', sourceThread: true, sink: 'csv', shape: 'line', retries: 0 },
    { family: 'stage', phase: 'process', mode: 'thread', position: 'last', how: 'throw-error', others: 'inline', sourceThread: true, sink: 'ndjson', shape: 'line', retries: 0 },
    // an inline stage calling process.exit(0), or whose promise never settles, or an unhandled rejection in one
    { ...inlineThrow('parquet'), how: 'exit-0' },
    { ...inlineThrow('csv'), how: 'hang' },
    { ...inlineThrow('csv'), how: 'unhandled-rejection' },
  ];
}

/**
 * A thread stage first with no source thread parses the CSV in its copies (fusion,
 * plan.parseIn): a stage failure, a bad value and a ragged row there, whatever pairwise picks.
 * Thread stages beside thread stages of the same copies are fused into one worker (plan/fuse.ts):
 * the culprit is the member, also when its copy dies (these two first named the fused group).
 */
export function fusedCells(): (StageCell | SourceCell)[] {
  return [
    { family: 'stage', phase: 'process', mode: 'thread', position: 'first', how: 'throw-error', others: 'same', sourceThread: false, sink: 'parquet', shape: 'line', retries: 0 },
    { family: 'stage', phase: 'process', mode: 'thread', position: 'first', how: 'exit-3', others: 'inline', sourceThread: false, sink: 'csv', shape: 'line', retries: 0 },
    { family: 'stage', phase: 'process', mode: 'thread', position: 'middle', how: 'exit-3', others: 'same', sourceThread: false, sink: 'parquet', shape: 'line', retries: 0 },
    { family: 'stage', phase: 'process', mode: 'thread', position: 'middle', how: 'unhandled-rejection', others: 'same', sourceThread: false, sink: 'csv', shape: 'line', retries: 0 },
    { family: 'source', fault: 'bad-value', mode: 'thread', sourceThread: false, sink: 'arrow', shape: 'line' },
    { family: 'source', fault: 'ragged-row', mode: 'thread', sourceThread: false, sink: 'partitioned-parquet', shape: 'line' },
  ];
}

/**
 * onError cells by hand, whatever pairwise picks: the cells that failed before, with rows to
 * reject (the first regression: an inline stage × the source thread × a text sink; the fused
 * parse in a thread stage's copies, where the halves of a bisected batch once passed because
 * the fixture counted batches per copy), a stateless stage in each mode (rows one by one; an
 * inline stage cannot have retries, so only `stateless` gives it the fixture without flush),
 * a stage with state (whole batches), a dead copy with a dead-letter output, replaced or not, and
 * an inline stage calling process.exit (it fails the run as in every mode, never rows rejected).
 */
export function onErrorCells(): StageCell[] {
  const throwing: StageCell = { family: 'stage', phase: 'process', mode: 'inline', position: 'last', how: 'throw-error', others: 'inline', sourceThread: true, sink: 'csv', shape: 'line', retries: 0, onError: 'dead-letter' };
  const stateless: StageCell = { ...throwing, stateless: true };
  return [
    stateless,
    { ...stateless, sink: 'ndjson', how: 'throw-cyclic', onError: 'skip' },
    { ...stateless, mode: 'thread', position: 'first', others: 'same', sourceThread: false, sink: 'parquet', shape: 'two-sinks' },
    { ...stateless, mode: 'process', position: 'middle', how: 'throw-string', sink: 'arrow', shape: 'branches' },
    { ...throwing, mode: 'thread', position: 'middle', others: 'same', sink: 'partitioned-parquet' },
    { ...throwing, mode: 'thread', how: 'exit-3', sink: 'parquet', retries: 1 },
    { ...throwing, mode: 'process', how: 'sigkill', sink: 'ndjson' },
    // process.exit in an inline stage with onError: it ends the copy, it is no row's fault (once rejected every row, exit 0)
    { ...stateless, how: 'exit-3', sink: 'partitioned-parquet' },
  ];
}

export function allCells(): MatrixCell[] {
  const tagged = [
    ...regressionCells().map((c) => ({ ...c, note: 'regression' })),
    ...fusedCells().map((c) => ({ ...c, note: 'fused parse' })),
    ...onErrorCells().map((c) => ({ ...c, note: 'onError' })),
    ...stageCells(),
    ...ioCells(),
  ];
  return tagged.map((c, i) => ({ ...c, id: `${String(i).padStart(3, '0')} ${c.family} ${name(c)}` }));
}

/** The input's rows (`id, name, grp, x, pad`, as text), the same every time. */
export function inputRows(): string[][] {
  let seed = 12345;
  const hex = () => {
    let s = '';
    while (s.length < 160) {
      seed = (seed * 1103515245 + 12345) >>> 0; // a fixed LCG: incompressible-looking, deterministic
      s += seed.toString(16).padStart(8, '0');
    }
    return s;
  };
  return Array.from({ length: ROWS }, (_, i) => [String(i), `n${i % 97}`, i % 2 ? 'b' : 'a', (i * 0.25).toFixed(2), hex()]);
}

/** Inputs shared by every cell, written once into `dir`. */
export function writeInputs(dir: string): void {
  const rows = inputRows();
  const csv = (r: string[][]) => ['id,name,grp,x,pad', ...r.map((f) => f.join(','))].join('\n') + '\n';
  writeFileSync(path.join(dir, 'in.csv'), csv(rows));
  const at = BAD_LINE - 2;
  writeFileSync(path.join(dir, 'in-bad.csv'), csv(rows.map((r, i) => (i === at ? [r[0], r[1], r[2], 'oops', r[4]] : r))));
  writeFileSync(path.join(dir, 'in-ragged.csv'), csv(rows.map((r, i) => (i === at ? [...r, 'extra'] : r))));
  // A gzip cut off in the middle: the first batches read fine, then the stream breaks.
  const gz = gzipSync(csv(rows));
  writeFileSync(path.join(dir, 'in-trunc.csv.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
}

export function sinkPath(cellDir: string, sink: SinkKind): string {
  const ext = { parquet: '.parquet', csv: '.csv', ndjson: '.ndjson', arrow: '.arrow', 'partitioned-parquet': '' }[sink];
  return path.join(cellDir, 'out', `result${ext}`);
}

/** The dead-letter output of a cell with `onError: 'dead-letter'`: in the sink's format (a partitioned sink's: one Parquet file). */
export function deadLetterPath(cellDir: string, sink: SinkKind): string {
  return path.join(cellDir, 'out', `rejects.${sink === 'partitioned-parquet' ? 'parquet' : sink}`);
}

/** Where a cell's second sink (shapes other than `line`) writes. */
export function secondSinkPath(cellDir: string): string {
  return path.join(cellDir, 'out', 'second.ndjson');
}

/** The pipeline config of a cell (absolute paths: the config lives in the cell's directory). */
export function configOf(cell: MatrixCell, inputs: string, cellDir: string): object {
  const input = cell.family === 'source' ? { 'bad-value': 'in-bad.csv', 'ragged-row': 'in-ragged.csv', 'unreadable-file': 'in-trunc.csv.gz' }[cell.fault] : 'in.csv';
  const neighbourMode = cell.family === 'stage' && cell.others === 'same' ? cell.mode : 'inline';
  const neighbour = (n: string) => ({ name: n, module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode: neighbourMode });
  let stages: object[];
  if (cell.family === 'stage') {
    // With retries, a stage without flush (one with flush is never replayed: that is its own cell, phase flush).
    const fixture = (cell.retries || cell.stateless) && cell.phase !== 'flush' ? 'matrix-fail-stateless.ts' : 'matrix-fail.ts';
    // With onError, a throw happens on the rows BAD_IDS (a per-row rule: the expectation is exact); a death stays per copy.
    const ids = onErrorOf(cell) !== 'fail' && cell.how.startsWith('throw-') && { ids: BAD_IDS };
    const boom = {
      name: 'boom',
      module: path.join(FIXTURE_STAGES, fixture),
      mode: cell.mode,
      ...(cell.retries && { retries: cell.retries }),
      ...(cell.onError && { onError: cell.onError }),
      options: { phase: cell.phase, how: cell.how, at: FAIL_AT, ...ids, marker: path.join(cellDir, 'hanging') },
    };
    stages = { first: [boom, neighbour('after')], middle: [neighbour('before'), boom, neighbour('after')], last: [neighbour('before'), boom] }[cell.position];
  } else {
    stages = [{ ...neighbour('transform'), mode: cell.mode, ...(cell.family === 'sink' && cell.onError && { onError: cell.onError }) }];
  }
  const out = sinkPath(cellDir, cell.sink);
  const sink = cell.sink === 'partitioned-parquet' ? { format: 'parquet', path: out, partitionBy: ['grp'], rowGroupSize: BATCH_ROWS } : { format: cell.sink, path: out, ...(cell.sink === 'parquet' ? { rowGroupSize: BATCH_ROWS } : {}) };
  const names = stages.map((s) => (s as { name: string }).name);
  const graph =
    cell.shape === 'line'
      ? { sink }
      : { sinks: [{ name: 'result', ...sink }, { name: 'second', from: names[cell.shape === 'two-sinks' ? names.length - 1 : 0], format: 'ndjson', path: secondSinkPath(cellDir) }] };
  return {
    name: 'matrix',
    // inferRows within one batch: a thread stage first without a source thread then parses in its copies (fusion)
    source: { format: 'csv', path: path.join(inputs, input), batchRows: BATCH_ROWS, inferRows: BATCH_ROWS, thread: cell.sourceThread, schema: { x: 'float64' }, ...(cell.family !== 'stage' && cell.onError && { onError: cell.onError }) },
    stages,
    ...graph,
    ...(cell.onError === 'dead-letter' && { deadLetter: { format: cell.sink === 'partitioned-parquet' ? 'parquet' : cell.sink, path: deadLetterPath(cellDir, cell.sink) } }),
  };
}

export const onErrorOf = (cell: MatrixCell): OnError => cell.onError ?? 'fail';
