/**
 * The run is a graph: one source read once feeds several branches, each to its own sink, all
 * committed together. Each output must equal the output of the matching one-sink run (both
 * read back by DuckDB); a failure on either branch leaves every previous output as it was and
 * no temporary anywhere; a stalled branch holds the producer back within the channel bounds.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import type { PipelineConfig, SinkConfig } from '../../src/config/types';
import { buildPlan } from '../../src/plan/build';
import { renderPlan } from '../../src/plan/explain';
import { renderDot, renderMermaid } from '../../src/plan/graph-shape';
import { recoverCommand } from '../../src/cli/recover';
import { runPlan } from '../../src/runtime/run';
import type { RunReport } from '../../src/runtime/types';
import { BIN, runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { killWhenStopped } from '../helpers/processes';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

// 6 batches of 200 rows (and 12 of 100 for the backpressure test, past its bound of 4): every
// branch spans batches; more rows only cost parsing, encoding and reading back in each of ~15 runs.
const ROWS = 1200;
const log = pino({ level: 'silent' });
const stagePath = (name: string) => path.join(FIXTURE_STAGES, name);

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-graph-');
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), ROWS);
});
afterAll(() => ws.cleanup());

const source = { format: 'csv', path: 'in.csv', batchRows: 200, inferRows: 200, schema: { day: 'utf8' } } as const;

type Mode = 'inline' | 'thread' | 'process';

/**
 * The nightly shape: clean (inline) → pseudo (thread × 2) → events (partitioned Parquet), and
 * off pseudo a stateful count (process) → totals (CSV); off the source a tag stage → raw (NDJSON).
 * `inline`: the same graph with every stage inline, for runs whose subject is the commit of the
 * three sinks, not where the stages run (each thread copy costs ~0.25 CPU-s to start, a child ~0.6).
 */
function graphConfig(out: string, over: { pseudoMode?: Mode; countMode?: Mode; inline?: boolean; fail?: Record<string, unknown>; ordered?: boolean } = {}): PipelineConfig {
  const mode = (set: Mode | undefined, usual: Mode): Mode => (over.inline ? 'inline' : (set ?? usual));
  return {
    name: 'graph',
    source,
    ...(over.ordered === false && { ordered: false }),
    stages: [
      { name: 'clean', module: stagePath('tag.ts'), mode: 'inline', options: { tag: 'c' } },
      { name: 'pseudo', module: stagePath('e2e-transform.ts'), mode: mode(over.pseudoMode, 'thread'), concurrency: over.inline ? 1 : 2 },
      { name: 'count', module: stagePath('e2e-count.ts'), mode: mode(over.countMode, 'process'), input: 'pseudo' },
      { name: 'raw', module: stagePath('tag.ts'), mode: mode(undefined, 'thread'), input: 'source', options: { tag: 'r' } },
      ...(over.fail ? [{ name: 'boom', module: stagePath('matrix-fail.ts'), mode: 'process' as const, input: 'raw', options: over.fail }] : []),
    ],
    sinks: [
      { name: 'events', from: 'pseudo', format: 'parquet', path: path.join(out, 'events'), partitionBy: ['day'] },
      { name: 'totals', from: 'count', format: 'csv', path: path.join(out, 'totals.csv') },
      { name: 'raw', from: over.fail ? 'boom' : 'raw', format: 'ndjson', path: path.join(out, 'raw.ndjson') },
    ],
  };
}

/**
 * The same branch as a one-sink line: what the graph's sink of that name must hold. Its stages
 * run inline: the reference is the branch's answer, which is the same in every mode (the modes'
 * own test: modes.test.ts); the graph's thread and process copies are what is under test.
 */
function lineConfig(out: string, branch: 'events' | 'totals' | 'raw'): PipelineConfig {
  const clean = { name: 'clean', module: stagePath('tag.ts'), mode: 'inline' as const, options: { tag: 'c' } };
  const pseudo = { name: 'pseudo', module: stagePath('e2e-transform.ts'), mode: 'inline' as const };
  const stages = {
    events: [clean, pseudo],
    totals: [clean, pseudo, { name: 'count', module: stagePath('e2e-count.ts'), mode: 'inline' as const }],
    raw: [{ name: 'raw', module: stagePath('tag.ts'), mode: 'inline' as const, options: { tag: 'r' } }],
  }[branch];
  const sinks: Record<typeof branch, SinkConfig> = {
    events: { format: 'parquet', path: path.join(out, 'events'), partitionBy: ['day'] },
    totals: { format: 'csv', path: path.join(out, 'totals.csv') },
    raw: { format: 'ndjson', path: path.join(out, 'raw.ndjson') },
  };
  const sink = sinks[branch];
  return { name: `line-${branch}`, source, stages, sink };
}

async function run(config: PipelineConfig): Promise<RunReport> {
  const checked = checkConfig(config, '', ws.dir);
  return runPlan(buildPlan(checked.config, checked), { log });
}

/** Every row of a sink's output, read by DuckDB, as sorted JSON lines (an order-free comparison). */
async function readBack(out: string, branch: 'events' | 'totals' | 'raw'): Promise<string[]> {
  const query = {
    events: `SELECT * FROM read_parquet('${out}/events/**/*.parquet', hive_partitioning = true)`,
    totals: `SELECT * FROM read_csv('${out}/totals.csv')`,
    raw: `SELECT * FROM read_json('${out}/raw.ndjson')`,
  }[branch];
  const rows = await duckRows(query);
  return rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b))))).sort();
}

/** Every file under `dir` (hidden ones too) with a hash of its bytes: "untouched" means equal. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const p = path.join(dir, f);
    if (statSync(p).isFile()) out[f] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return out;
}

/**
 * The graph run into graph-out, once: the first describe checks what it wrote, the second
 * takes it as the previous outputs a failed run must leave as they are (run after the first's
 * checks, as jest runs describes in order; each awaits it, so either runs alone too).
 */
let graphRun: Promise<RunReport> | undefined;
const graphOut = () => path.join(ws.dir, 'graph-out');
const graphOnce = () => (graphRun ??= run(graphConfig(graphOut())));

describe('one source, three branches, three sinks in one pass', () => {
  const out = graphOut;
  let report: RunReport;
  beforeAll(async () => {
    // At once: four independent runs into their own folders, whose copies start (a child
    // process boots, threads load their stage) while the others read.
    [report] = await Promise.all([graphOnce(), ...(['events', 'totals', 'raw'] as const).map((branch) => run(lineConfig(path.join(ws.dir, `line-${branch}`), branch)))]);
  }, 180_000);

  it.each(['events', 'totals', 'raw'] as const)('sink %s holds what the one-sink run of its branch writes', async (branch) => {
    const got = await readBack(out(), branch);
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(await readBack(path.join(ws.dir, `line-${branch}`), branch));
  });

  it('reads the source once, and reports each sink and the sum', () => {
    expect(report.source.rows).toBe(ROWS);
    expect(report.sinks!.map((s) => [s.name, s.rows])).toEqual([
      ['events', ROWS],
      ['totals', 28],
      ['raw', ROWS],
    ]);
    expect(report.sink.rows).toBe(ROWS + 28 + ROWS);
    // Every stage saw every row it reads: the source's batches went to both readers.
    const byName = Object.fromEntries(report.stages.map((s) => [s.name, s]));
    expect([byName.clean.rowsIn, byName.pseudo.rowsIn, byName.count.rowsIn, byName.raw.rowsIn]).toEqual([ROWS, ROWS, ROWS, ROWS]);
  });

  it('leaves no temporary, lock or journal beside the outputs', () => {
    expect(readdirSync(out()).sort()).toEqual(['events', 'raw.ndjson', 'totals.csv']);
  });

  it('explain draws the graph: what each stage and sink reads, with its channel; mermaid and dot', () => {
    const checked = checkConfig(graphConfig(out()), '', ws.dir);
    const plan = buildPlan(checked.config, checked);
    const text = renderPlan(plan, [path.join(ws.dir, 'in.csv')]);
    expect(text).toMatch(/stage {4}count: process × 1 .*\n {2}← pseudo \(channel: 4 batches, 64 MiB\)/);
    expect(text).toMatch(/stage {4}raw: thread × 1 .*\n {2}← source \(channel: 4 batches, 64 MiB\)/);
    expect(text).toMatch(/sink {5}totals: csv → .*totals\.csv.*\n {2}← count \(channel/);
    expect(text).toMatch(/sink {5}events: parquet → .*events partitioned by day.*\n {2}← parquet-encode:events \(channel/);
    expect(text).toContain('commit   the 3 sinks together: all published, or none');
    const mermaid = renderMermaid(plan);
    expect(mermaid).toContain('flowchart TD');
    expect(mermaid).toMatch(/ {2}s1 -->\|"4 × 64 MiB"\| s2/); // pseudo → count
    expect(mermaid).toMatch(/ {2}source -->\|"4 × 64 MiB"\| s3/); // source → raw
    const dot = renderDot(plan);
    expect(dot).toMatch(/^digraph "graph" \{/);
    expect(dot).toMatch(/ {2}s2 -> k1 \[label="4 × 64 MiB"\];/); // count → totals
  });
});

describe('a failure on any branch commits nothing', () => {
  const out = graphOut;
  let before: Record<string, string>;
  beforeAll(async () => {
    await graphOnce();
    before = snapshot(out());
    expect(Object.keys(before).length).toBeGreaterThan(3);
  }, 120_000);

  // The failing stage is a child in each; the other branches' stages run where the nightly
  // shape puts them in one cell (their copies torn down mid-run), inline in the others.
  it.each([
    ['a stage throws on the raw branch', { phase: 'process', how: 'throw-error', at: 2 }, /deliberate failure in matrix-fail/, 'inline'],
    ['a child is SIGKILLed on the raw branch', { phase: 'process', how: 'sigkill', at: 1 }, /SIGKILL/, 'nightly'],
    ['a stage fails in flush on the raw branch', { phase: 'flush', how: 'throw-error' }, /deliberate failure/, 'inline'],
  ])('%s: every previous output stays, no temporary anywhere (other stages %s)', async (_what, fail, says, shape) => {
    await expect(run(graphConfig(out(), { fail, inline: shape === 'inline' }))).rejects.toThrow(says);
    expect(snapshot(out())).toEqual(before);
  }, 120_000);

  it('a sink that cannot write (its file size limit) fails the CLI run with a non-zero exit, nothing published', async () => {
    const cfg = ws.config(graphConfig(out(), { inline: true }), 'graph-limit.config.ts');
    const r = await runCli(['run', cfg, '--quiet'], { wrap: ['prlimit', `--fsize=${8 * 1024}`] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/EFBIG|too large/i);
    expect(snapshot(out())).toEqual(before);
  }, 120_000);
});

describe('backpressure with fan-out', () => {
  it('a stalled branch holds the source back: the other branch gets no more than its channel bounds allow', async () => {
    const ready = path.join(ws.dir, 'gate.ready');
    const release = path.join(ws.dir, 'gate.release');
    const out = path.join(ws.dir, 'bp-out');
    const config: PipelineConfig = {
      name: 'bp',
      source: { ...source, batchRows: 100 },
      channel: { capacity: 2 },
      stages: [
        { name: 'gate', module: stagePath('e2e-gate.ts'), mode: 'process', options: { ready, release } },
        { name: 'free', module: stagePath('tag.ts'), mode: 'inline', input: 'source', options: { tag: 'f' } },
      ],
      sinks: [
        { name: 'slow', from: 'gate', format: 'csv', path: path.join(out, 'slow.csv') },
        { name: 'fast', from: 'free', format: 'csv', path: path.join(out, 'fast.csv') },
      ],
    };
    const checked = checkConfig(config, '', ws.dir);
    const plan = buildPlan(checked.config, checked);
    const gate = plan.stages.find((s) => s.name === 'gate')!;
    // What the source may read while the gate finishes nothing: the gate's channel and its slots.
    const bound = gate.copies * gate.slotsPerCopy + plan.sourceOutput.capacity;
    let atRelease: { sourceBatches: number; freeRows: number; reason?: string } | undefined;
    const report = await runPlan(plan, {
      log,
      progressIntervalMs: 10,
      onProgress: (p) => {
        if (atRelease || !existsSync(ready)) return;
        const free = p.stages.find((s) => s.name === 'free')!;
        // Released once the source is held back and the free branch has drained what it was
        // given, or once the free branch has every row (only if nothing held the source back).
        const held = p.source.waitReason === 'held: output full' && free.inFlight === 0 && free.queueDepth === 0;
        if (held || free.rowsOut === ROWS) {
          atRelease = { sourceBatches: p.source.batches, freeRows: free.rowsOut, reason: p.source.waitReason };
          writeFileSync(release, '');
        }
      },
    });
    expect(atRelease).toBeDefined();
    expect(atRelease!.reason).toBe('held: output full');
    expect(atRelease!.sourceBatches).toBeLessThanOrEqual(bound);
    expect(atRelease!.freeRows).toBeLessThanOrEqual(bound * 100);
    // The fast branch's channel never held more than its bound, and every row arrived in the end.
    const freeChannel = report.channels.find((c) => c.name === 'source→free')!;
    expect(freeChannel.peakDepth).toBeLessThanOrEqual(freeChannel.capacity);
    expect(report.sinks!.map((s) => s.rows)).toEqual([ROWS, ROWS]);
    expect(report.source.rows).toBe(ROWS);
  }, 120_000);
});

describe('kill -9 of the whole run at each step of its three-sink commit', () => {
  const rowsOf = async (out: string) => Promise.all((['events', 'totals', 'raw'] as const).map(async (b) => (await readBack(out, b)).length));
  // The old outputs: a run over the first 1 000 rows only, made once (in this process: only
  // its outputs matter) and copied for each step (a finished run leaves its three outputs and
  // nothing else, as the first describe checks: the copy is what a run of its own into each
  // folder would leave, one run instead of four).
  const oldOut = () => path.join(ws.dir, 'kill-old');
  let oldRows: number[];
  beforeAll(async () => {
    writeNumbersCsv(path.join(ws.dir, 'small.csv'), 1000);
    await run({ ...graphConfig(oldOut(), { inline: true }), source: { ...source, path: 'small.csv' } });
    expect(readdirSync(oldOut()).sort()).toEqual(['events', 'raw.ndjson', 'totals.csv']);
    oldRows = await rowsOf(oldOut());
  }, 120_000);
  // The run killed at each step is a CLI child (the whole process dies); the recovery is
  // `sluice recover` itself for one step, and the function that command calls for the others
  // (src/cli/recover.ts recoverCommand: what the CLI adds is printing its lines and exit 0).
  // That step's run has the nightly shape (its thread and process copies die with it); the
  // others run their stages inline: the commit's steps are the same wherever the stages ran.
  it.each([
    ['before-journal', 'old', 'in-process'],
    ['after-journal', 'new', 'in-process'],
    ['between-renames', 'new', 'cli'],
    ['after-renames', 'new', 'in-process'],
  ])('stopped %s and killed: `sluice recover` leaves all %s outputs, nothing beside them (recover %s)', async (step, which, how) => {
    const out = path.join(ws.dir, `kill-${step}`);
    const cfg = ws.config(graphConfig(out, { inline: how !== 'cli' }), `kill-${step}.config.ts`);
    cpSync(oldOut(), out, { recursive: true });
    expect(await rowsOf(out)).toEqual(oldRows);
    const child = spawn(BIN, ['run', cfg, '--quiet'], { cwd: ws.dir, env: { ...process.env, SLUICE_TEST_STOP_AT: step }, stdio: ['ignore', 'ignore', 'pipe'] });
    await killWhenStopped(child, `at ${step}`, 90_000);
    if (how === 'cli') {
      const recovered = await runCli(['recover', cfg]);
      expect(recovered.stderr).toBe('');
      expect(recovered.code).toBe(0);
      expect(recovered.stdout).toContain('✔ ');
    } else {
      expect((await recoverCommand({ config: cfg })).length).toBeGreaterThan(0);
    }
    const rows = await rowsOf(out);
    expect(rows).toEqual(which === 'old' ? oldRows : [ROWS, 28, ROWS]);
    expect(readdirSync(out).sort()).toEqual(['events', 'raw.ndjson', 'totals.csv']);
  }, 180_000);
});
