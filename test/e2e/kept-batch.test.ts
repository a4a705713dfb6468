/**
 * A stage that keeps a batch past process() without copying it (documented misuse: batches lie
 * in recycled shared memory) fails naming the stage, whether it returns the batch one call
 * later or in flush, in every mode where its input lies in recycled memory (inline behind a
 * source thread, thread, process) and with every sink, nothing written; the same stage copying
 * what it keeps is unaffected (every row once, read back by DuckDB). Modes × ways are covered
 * through `sluice/testing` (each mode hands batches over as a run does); sinks through the CLI,
 * each sink once, the modes and ways rotating over them (a pairwise cover of mode × sink × way
 * would be 12 CLI runs; the misuse fails in the stage, before any sink sees a row).
 *
 * The runs are the engine's, not the command's: they go through `run()` in this process
 * (test/helpers/in-process-run.ts; thread and process copies from dist/ as a CLI run's), the
 * failure's text being the run's error message (what the CLI prints after `sluice:`); the first
 * failing one runs through the CLI as well (exit 1, the message on stderr). All are made in
 * beforeAll, two at a time (test/helpers/started.ts), and each test asserts on its own.
 */
import path from 'node:path';
import { runStage } from 'sluice/testing';
import { runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { runInProcess } from '../helpers/in-process-run';
import { Started } from '../helpers/started';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

const KEEPER = path.join(FIXTURE_STAGES, 'keep-batch.ts');
const KEPT = /stage "keeper", copy 0(, batch #\d+)?[^\n]* failed in (process|flush)\(\): it returned a batch that it kept from an earlier call without copying it: its memory/;
const ROWS = 40_000;
let ws: Workspace;
/** How a run ended: `failed`, and what it said (the CLI's stderr, or the run's error message in process). */
type Ended = { failed: boolean; said: string };
const runs = new Started<Ended>(2);
// The runs are made here, and awaited here: a run in this process loads its config through
// jest's require, which jest refuses between tests (test/helpers/in-process-run.ts).
beforeAll(async () => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), ROWS);
  runs.startAll();
  await runs.settled();
}, 10 * 60_000);
afterAll(() => ws.cleanup());

/** `sluice run --quiet` (exit code 1 is a failure, 0 not), or `run()` in this process. */
async function runJob(file: string, viaCli: boolean): Promise<Ended> {
  if (viaCli) {
    const r = await runCli(['run', file, '--quiet'], { timeoutMs: 60_000 });
    return { failed: r.code !== 0, said: r.code === 0 || r.code === 1 ? r.stderr : `exit ${r.code}, signal ${r.signal}: ${r.stderr}` };
  }
  const o = await runInProcess(file);
  return { failed: !!o.error, said: o.error?.message ?? '' };
}

const batches = (n: number) => Array.from({ length: n }, (_, b) => Array.from({ length: 100 }, (_, i) => ({ id: b * 100 + i, name: `n${i}` })));

describe.each([
  ['thread', 'lag'],
  ['thread', 'flush'],
  ['process', 'lag'],
  ['process', 'flush'],
])('through sluice/testing: a %s stage that returns kept batches (%s)', (mode, keep) => {
  it('without a copy: fails naming the stage', async () => {
    const run = (input: ReturnType<typeof batches>) =>
      (async () => {
        const { startStage } = await import('sluice/testing');
        const s = await startStage(KEEPER, { mode: mode as 'thread', options: { keep }, name: 'keeper' });
        try {
          for (const rows of input) await s.process(rows);
          await s.flush();
        } finally {
          await s.close();
        }
      })();
    await expect(run(batches(4))).rejects.toThrow(KEPT);
  });

  it('with a copy: every row once', async () => {
    const r = await runStage(KEEPER, batches(4).flat(), { mode: mode as 'thread', options: { keep, copy: true }, name: 'keeper' });
    expect(r.rows().map((row) => Number(row.id))).toEqual(Array.from({ length: 400 }, (_, i) => i));
  });
});

function config(name: string, mode: string, sink: string, keep: string, copy: boolean): string {
  return ws.config(
    {
      name,
      // A source thread: its batches lie in slabs it recycles, as a thread or process hand-off's do.
      source: { format: 'csv', path: 'in.csv', batchRows: 10_000, thread: true },
      stages: [{ name: 'keeper', module: KEEPER, mode, options: { keep, copy } }],
      sink: { format: sink, path: `out/${name}.${sink}` },
    },
    `${name}.config.ts`,
  );
}

describe.each([
  ['inline', 'csv', 'lag'],
  ['thread', 'ndjson', 'flush'],
  ['process', 'arrow', 'lag'],
  ['inline', 'parquet', 'flush'],
])('through a run: a %s stage, %s sink, kept batches returned (%s)', (mode, sink, keep) => {
  const name = `kept-${mode}-${sink}-${keep}`;
  const viaCli = mode === 'inline' && sink === 'csv'; // the first: through the CLI as well
  runs.declare(name, () => runJob(config(name, mode, sink, keep, false), viaCli));
  it('without a copy: fails naming the stage, nothing written', async () => {
    const r = await runs.get(name);
    expect(r.said).toMatch(KEPT);
    expect(r.failed).toBe(true);
    expect(ws.outFiles().filter((f) => f.includes(name))).toEqual([]);
  });
});

const readers: Record<string, (file: string) => string> = {
  csv: (f) => `read_csv('${f}')`,
  ndjson: (f) => `read_json('${f}')`,
  parquet: (f) => `read_parquet('${f}')`,
};

describe.each([
  ['inline', 'parquet', 'flush'],
  ['thread', 'csv', 'lag'],
  ['process', 'ndjson', 'flush'],
])('through a run: a %s stage that copies what it keeps, %s sink (%s)', (mode, sink, keep) => {
  const name = `copied-${mode}-${sink}`;
  runs.declare(name, () => runJob(config(name, mode, sink, keep, true), false));
  it('succeeds, every row once (DuckDB)', async () => {
    const r = await runs.get(name);
    expect(r).toEqual({ failed: false, said: '' });
    const [row] = await duckRows(`select count(*)::int as n, count(distinct id)::int as ids, sum(id)::int as total from ${readers[sink](path.join(ws.dir, 'out', `${name}.${sink}`))}`);
    expect(row).toEqual({ n: ROWS, ids: ROWS, total: (ROWS * (ROWS - 1)) / 2 });
  });
});
