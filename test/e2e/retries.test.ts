/**
 * Retries and the watchdog (issue 26): a copy that dies on a batch (a child that SIGKILLs
 * itself, a thread or child that exits) or hangs on it (a promise that never settles, a busy
 * loop, a SIGSTOPped child: ended by `timeout`) is replaced and the batch sent again. With
 * `retries: 2` the output equals a fault-free run's: byte for byte when ordered, the same
 * multiset of rows (read by DuckDB) when unordered; the report lists the batch retried. With
 * `retries: 0` the run fails naming stage and batch, nothing written. "The first time" is a
 * marker file created with O_EXCL (test/fixtures/stages/fault-once.ts): no timing involved.
 *
 * Cells: every fault × {ordered, unordered} with retries 2 (the sink rotating over CSV, NDJSON
 * and Parquet), every fault once with retries 0, and a batch that kills its copy every time;
 * not the product with every sink (the sink sees only the batches the stage hands on, and a
 * fault never reaches it): 19 runs, two at a time. The fault-free run they are compared with is
 * one run, ordered, writing all three sinks (a graph: three sinks reading the stage): a sink's
 * bytes do not depend on its siblings, and an unordered run's rows are compared as a multiset,
 * which an ordered run's are too (it was six runs, one per sink and order).
 *
 * The subject is the supervisor, not the command: the runs go through `run()` in this process
 * (test/helpers/in-process-run.ts; the faults all happen in thread and process copies, started
 * from dist/ as a CLI run's are, never in the test's own thread), the failure's text is the
 * run's error message (what the CLI prints after `sluice:`), the retries the run report's. One
 * cell of each outcome runs through the CLI as well, for what the command adds: exit 0 and the
 * retries in the --report file (the first retried cell), a non-zero exit and the message on
 * stderr (the batch that kills its copy every time).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { runInProcess } from '../helpers/in-process-run';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

const STAGE = path.join(FIXTURE_STAGES, 'fault-once.ts');
// 10 batches: the failing one (#5) has batches before it and after it, on both copies. More rows
// only cost parsing, hand-offs and encoding in each of 20 runs (it was 2000).
const ROWS = 1000;
const BATCH_ROWS = 100;
/** The batch the stage fails on: #5 (ids 500…599). */
const SEQ = 5;

type How = 'sigkill' | 'sigstop' | 'exit' | 'hang' | 'busy';
const FAULTS: { mode: 'thread' | 'process'; how: How; timeout?: string }[] = [
  { mode: 'process', how: 'sigkill' },
  { mode: 'thread', how: 'exit' },
  { mode: 'process', how: 'exit' },
  { mode: 'thread', how: 'hang', timeout: '2s' },
  { mode: 'process', how: 'sigstop', timeout: '2s' },
  { mode: 'thread', how: 'busy', timeout: '2s' },
];
const SINKS = ['csv', 'ndjson', 'parquet'] as const;

let ws: Workspace;
let n = 0;

interface Cell {
  mode: 'thread' | 'process';
  how: How;
  timeout?: string;
  ordered: boolean;
  retries: number;
  sink: (typeof SINKS)[number];
  always?: boolean;
}

/** How a run ended: through the CLI (`code`: its exit code, `said`: stderr) or in process (`code` 0 or 1, `said`: the error's message). */
interface Ended {
  code: number | null;
  said: string;
}

async function run(cell: Cell | { clean: true }, viaCli = false): Promise<{ r: Ended; out: string; outs: Record<Cell['sink'], string>; report: Record<string, unknown> | undefined }> {
  const name = `p${n++}`;
  const outs = Object.fromEntries(SINKS.map((sink) => [sink, path.join(ws.dir, 'out', `${name}.${sink}`)])) as Record<Cell['sink'], string>;
  const out = 'clean' in cell ? '' : outs[cell.sink];
  const stage =
    'clean' in cell
      ? { name: 'flaky', module: STAGE, mode: 'thread', concurrency: 2, options: { firstId: -5, how: 'exit', marker: path.join(ws.dir, `${name}.marker`) } }
      : {
          name: 'flaky',
          module: STAGE,
          mode: cell.mode,
          concurrency: 2,
          retries: cell.retries,
          ...(cell.timeout && { timeout: cell.timeout }),
          options: { firstId: SEQ * BATCH_ROWS, how: cell.how, marker: path.join(ws.dir, `${name}.marker`), always: !!cell.always },
        };
  // The fault-free run: ordered, into every sink at once.
  const sinks = 'clean' in cell ? { sinks: SINKS.map((sink) => ({ name: sink, from: 'flaky', format: sink, path: outs[sink] })) } : { sink: { format: cell.sink, path: out } };
  const cfg = ws.config({ name, ordered: 'clean' in cell || cell.ordered, source: { format: 'csv', path: 'in.csv', batchRows: BATCH_ROWS }, stages: [stage], ...sinks }, `${name}.config.ts`);
  if (!viaCli) {
    const o = await runInProcess(cfg);
    return { r: { code: o.error ? 1 : 0, said: o.error ? o.error.message : o.logged.join('\n') }, out, outs, report: o.report as unknown as Record<string, unknown> | undefined };
  }
  const reportFile = path.join(ws.dir, `${name}.report.json`);
  const c = await runCli(['run', cfg, '--quiet', '--report', reportFile], { timeoutMs: 60_000 });
  const report = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as Record<string, unknown>) : undefined;
  return { r: { code: c.code, said: c.stderr }, out, outs, report };
}

const reader = (sink: Cell['sink'], file: string) => (sink === 'csv' ? `read_csv('${file}')` : sink === 'ndjson' ? `read_json('${file}')` : `read_parquet('${file}')`);
/** Every row, sorted (an unordered run's output compared as a multiset), read by DuckDB. */
const rowsOf = (sink: Cell['sink'], file: string) => duckRows(`SELECT id::BIGINT AS id, name, x::DOUBLE AS x, day::VARCHAR AS day FROM ${reader(sink, file)} ORDER BY id`);

/** Two runs at a time (a 2-core machine). */
const slots: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
let turn = 0;
function queued<T>(f: () => Promise<T>): Promise<T> {
  const i = turn++ % slots.length;
  const p = slots[i].then(f, f);
  slots[i] = p.catch(() => undefined);
  return p;
}

let clean: ReturnType<typeof run> | undefined;
/** The fault-free run's output for `sink`. */
const cleanRun = async (sink: Cell['sink']) => {
  clean ??= queued(() => run({ clean: true }));
  const { r, outs } = await clean;
  return { r, out: outs[sink] };
};

const withRetries: Cell[] = FAULTS.flatMap((f, i) => [true, false].map((ordered, j) => ({ ...f, ordered, retries: 2, sink: SINKS[(i + j) % SINKS.length] })));
const withoutRetries: Cell[] = FAULTS.map((f, i) => ({ ...f, ordered: i % 2 === 0, retries: 0, sink: SINKS[i % SINKS.length] }));
const everyTime: Cell = { mode: 'process', how: 'sigkill', ordered: true, retries: 2, sink: 'csv', always: true };
/** The cells that run through the CLI (see the header): one that recovers, one that fails. */
const throughCli = new Set([withRetries[0], everyTime]);
const cellName = (c: Cell) => `${c.mode} stage, ${c.how}${c.timeout ? ` (timeout ${c.timeout})` : ''}, ${c.ordered ? 'ordered' : 'unordered'}, ${c.sink} sink`;
const started = new Map<Cell, ReturnType<typeof run>>();
const start = (c: Cell) => {
  if (!started.has(c)) started.set(c, queued(() => run(c, throughCli.has(c))));
  return started.get(c)!;
};

// Every run is made here, two at a time (the timeout cells spend their 2 s waiting, which the
// other slot's run uses), and awaited here: a run in this process loads its config through
// jest's require, which jest refuses between tests (test/helpers/in-process-run.ts). Each run
// has its own hang limit; the tests then assert, each on its own run.
beforeAll(async () => {
  ws = workspace('sluice-retries-');
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), ROWS);
  const base = (clean ??= queued(() => run({ clean: true })));
  for (const c of [...withRetries, ...withoutRetries, everyTime]) void start(c);
  await Promise.all([base, ...started.values()].map((p) => p.catch(() => undefined)));
}, 15 * 60_000);
afterAll(() => ws.cleanup());

describe('retries: 2: the output equals a fault-free run and the report shows the retry', () => {
  it.each(withRetries.map((c) => [cellName(c), c] as const))('%s', async (_, cell) => {
    const [{ r, out, report }, base] = await Promise.all([start(cell), cleanRun(cell.sink)]);
    expect({ code: r.code, said: r.code === 0 ? '' : r.said }).toEqual({ code: 0, said: '' });
    expect({ code: base.r.code, said: base.r.code === 0 ? '' : base.r.said }).toEqual({ code: 0, said: '' });
    const stages = (report?.stages ?? []) as { name: string; retries?: { retried: number; replaced: number; timedOut: number; batches: number[] } }[];
    const retries = stages.find((s) => s.name === 'flaky')?.retries;
    expect(retries?.batches).toContain(SEQ);
    expect(retries?.replaced).toBeGreaterThanOrEqual(1);
    // At least the hung attempt. Not exactly 1: a batch queued behind it on the same copy, sent
    // within the timer's wake-up latency after it, passes its own deadline in the same turn of
    // the event loop, before the kill cancels it, and counts too ("attempts the watchdog ended";
    // on a loaded machine the latency is tens of ms, so the count was a race).
    if (cell.timeout) expect(retries?.timedOut).toBeGreaterThanOrEqual(1);
    else expect(retries?.timedOut).toBe(0);
    const rows = await rowsOf(cell.sink, out);
    expect(rows).toHaveLength(ROWS);
    expect(rows).toEqual(await rowsOf(cell.sink, base.out));
    if (cell.ordered) expect(readFileSync(out).equals(readFileSync(base.out))).toBe(true);
  });
});

describe('retries: 0: the run fails naming stage and batch, nothing written', () => {
  it.each(withoutRetries.map((c) => [cellName(c), c] as const))('%s', async (_, cell) => {
    const { r, out } = await start(cell);
    expect(r.code).not.toBe(0);
    expect(r.said).toMatch(new RegExp(`stage "flaky", copy \\d, batch #${SEQ}`));
    if (cell.timeout) expect(r.said).toMatch(/no answer within its timeout of 2 s/);
    expect(existsSync(out)).toBe(false);
  });
});

it('a batch that kills its copy every time fails the run after retries + 1 attempts, naming it', async () => {
  const { r, out } = await start(everyTime);
  expect(r.code).not.toBe(0);
  expect(r.said).toMatch(new RegExp(`stage "flaky", copy \\d, batch #${SEQ}[^\\n]*: worker was killed by SIGKILL: after 3 attempts`));
  expect(existsSync(out)).toBe(false);
});
