/**
 * `--report out.html`, `--report out.json` and `--metrics out.prom` through the CLI: the page is
 * rendered in headless Chromium with the network refused and its charts' marks are counted;
 * the OpenMetrics file is parsed and checked against the JSON report of the same run.
 *
 * One CLI run serves several checks: the page of a finished run is made from the `--report`
 * JSON of that run by the function `--report x.html` calls on the same report object
 * (renderHtmlReport, src/cli/report-html/index.ts), so the main and the direct run are not run
 * again only to write their page; the failed run writes its page and its metrics at once, and
 * that page is the check that the CLI writes HTML for a `.html` name.
 */
import path from 'node:path';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';
import { describeWithChromium, markCount, renderedDom } from '../helpers/chromium';
import { renderHtmlReport } from '../../src/cli/report-html/page';
import { parseOpenMetrics } from '../helpers/openmetrics';
import type { RunReport } from '../../src/runtime/types';

/** What the page's script said when it finished: ok, or error (a chart failed). */
const rendered = (dom: string) => dom.match(/<body[^>]*data-rendered="(\w+)"/)?.[1];

let ws: Workspace;
let cfg: string;
let failing: string;
beforeAll(() => {
  ws = workspace('sluice-report-');
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 3000);
  const slow = path.join(FIXTURE_STAGES, 'e2e-slow.ts');
  const stages = [
    // one process copy takes a second batch while busy: lanes must stay at one
    { name: 'one-process-copy', module: slow, mode: 'process', concurrency: 1, options: { ms: 8 } },
    // slower than the batches come (one every 8 ms at most): each copy has one slot, so the
    // second copy is busy too (at 4 ms a batch, the first copy alone kept up: a lane never busy)
    { name: 'two-thread-copies', module: slow, mode: 'thread', concurrency: 2, options: { ms: 20 } },
  ];
  cfg = ws.config({ name: 'report-e2e', source: { format: 'csv', path: 'in.csv', batchRows: 100 }, stages, sink: { format: 'csv', path: 'out/o.csv' } }, 'report.config.ts');
  failing = ws.config(
    {
      name: 'report-fail',
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [{ name: 'breaks', module: path.join(FIXTURE_STAGES, 'e2e-fail.ts'), mode: 'thread', options: { at: 5, how: 'throw' } }],
      sink: { format: 'csv', path: 'out/f.csv' },
    },
    'fail.config.ts',
  );
});
afterAll(() => ws.cleanup());

/** The main run, once: its JSON report and its metrics (the HTML tests render its page from the JSON). */
let mainRun: ReturnType<typeof runCli> | undefined;
const main = () => (mainRun ??= runCli(['run', cfg, '--quiet', '--report', path.join(ws.dir, 'r.json'), '--metrics', path.join(ws.dir, 'm.prom')], { timeoutMs: 90_000 }));

/** The failed run, once: its metrics and its page (--report fail.html) from one CLI run. */
let failedRun: ReturnType<typeof runCli> | undefined;
const failed = () => (failedRun ??= runCli(['run', failing, '--quiet', '--metrics', path.join(ws.dir, 'fail.prom'), '--report', path.join(ws.dir, 'fail.html')], { timeoutMs: 90_000 }));

/** `--report <name>.html` of a run whose JSON report is `json`: the page the CLI writes for that report. */
function pageOf(json: string, html: string): string {
  writeFileSync(html, renderHtmlReport(JSON.parse(readFileSync(json, 'utf8')) as RunReport));
  return html;
}

describe('--report out.json and --metrics out.prom', () => {
  let report: RunReport;
  let prom: string;
  beforeAll(async () => {
    const r = await main();
    expect(r.code).toBe(0);
    report = JSON.parse(readFileSync(path.join(ws.dir, 'r.json'), 'utf8'));
    prom = readFileSync(path.join(ws.dir, 'm.prom'), 'utf8');
  }, 120_000);

  // The report holds the params (possibly secrets from the environment) and paths; the metrics neither (src/cli/whole-file.ts).
  it('creates the report 0600 and the metrics file with the usual mode (0666 less the umask)', () => {
    const mode = (f: string) => statSync(path.join(ws.dir, f)).mode & 0o777;
    expect(mode('r.json')).toBe(0o600);
    expect(mode('m.prom')).toBe(0o666 & ~process.umask());
  });

  it('records each copy over time: one lane per copy, every batch on a lane, busy time as in the totals', () => {
    const tl = report.timeline!;
    expect(tl.stages.map((s) => [s.name, s.copies, s.lanes.length])).toEqual([
      ['one-process-copy', 1, 1],
      ['two-thread-copies', 2, 2],
    ]);
    tl.stages.forEach((s, i) => {
      const stage = report.stages[i];
      // 30 batches plus the flush, none dropped on so short a run
      expect(s.batchStride).toBe(1);
      expect(s.batches.map((b) => b[0]).sort((a, b) => a - b)).toEqual([-1, ...Array.from({ length: 30 }, (_, k) => k)]);
      expect(s.batches.reduce((n, b) => n + b[4], 0)).toBe(stage.rowsOut);
      for (const [, lane, start, end] of s.batches) {
        expect(lane).toBeGreaterThanOrEqual(0);
        expect(lane).toBeLessThan(s.copies);
        expect(end).toBeGreaterThanOrEqual(start);
      }
      // the timeline and the counters are two records of one thing: busy copy-time agrees
      const busy = s.lanes.flat().reduce((n, [a, b, state]) => n + (state === 'busy' ? b - a : 0), 0);
      expect(Math.abs(busy - stage.busyMs)).toBeLessThan(1 + s.lanes.flat().length * 0.1);
      for (const lane of s.lanes) {
        // a lane's intervals follow one another without gaps or overlaps
        for (let k = 1; k < lane.length; k++) expect(lane[k][0]).toBeCloseTo(lane[k - 1][1], 5);
        expect(lane[lane.length - 1][2]).toBe('done');
      }
    });
    const samples = tl.samples;
    expect(samples.channels).toEqual(report.channels.map((c) => c.name));
    expect(samples.samples.length).toBeGreaterThanOrEqual(2);
    const last = samples.samples[samples.samples.length - 1];
    expect(last.sourceRows).toBe(3000);
    expect(last.stageRows).toEqual(report.stages.map((s) => s.rowsOut));
    for (const [k, c] of report.channels.entries()) expect(Math.max(...samples.samples.map((p) => p.depths[k]))).toBeLessThanOrEqual(c.peakDepth);
  });

  it('writes valid OpenMetrics whose values are the JSON report’s', () => {
    const families = parseOpenMetrics(prom);
    const get = (name: string, stage?: string) => {
      const s = families.get(name)?.samples.find((x) => x.labels.stage === stage && x.labels.pipeline === 'report-e2e');
      if (!s) throw new Error(`no ${name}${stage ? ` for ${stage}` : ''}`);
      return s.value;
    };
    expect(get('sluice_run_success')).toBe(1);
    expect(get('sluice_run_duration_seconds')).toBeCloseTo(report.durationMs / 1000, 6);
    expect(get('sluice_source_rows')).toBe(report.source.rows);
    expect(get('sluice_source_bytes')).toBe(report.source.bytes);
    expect(get('sluice_sink_rows')).toBe(report.sink.rows);
    expect(get('sluice_sink_bytes')).toBe(report.sink.bytes);
    for (const s of report.stages) {
      expect(get('sluice_stage_busy_seconds', s.name)).toBeCloseTo(s.busyMs / 1000, 6);
      expect(get('sluice_stage_batches_in', s.name)).toBe(s.batchesIn);
      expect(get('sluice_stage_batches_out', s.name)).toBe(s.batchesOut);
      expect(get('sluice_stage_rows_in', s.name)).toBe(s.rowsIn);
      expect(get('sluice_stage_rows_out', s.name)).toBe(s.rowsOut);
    }
    expect(readdirSync(ws.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

it('writes the metrics of a failed run (success 0) and of a run whose config does not load', async () => {
  const prom = path.join(ws.dir, 'fail.prom');
  const r = await failed();
  expect(r.code).toBe(1);
  const families = parseOpenMetrics(readFileSync(prom, 'utf8'));
  expect(families.get('sluice_run_success')!.samples).toEqual([{ name: 'sluice_run_success', labels: { pipeline: 'report-fail' }, value: 0 }]);
  expect(families.get('sluice_stage_batches_in')!.samples[0].value).toBeGreaterThan(0);

  const bad = path.join(ws.dir, 'bad.prom');
  const r2 = await runCli(['run', path.join(ws.dir, 'missing.config.ts'), '--quiet', '--metrics', bad]);
  expect(r2.code).toBe(1);
  expect(parseOpenMetrics(readFileSync(bad, 'utf8')).get('sluice_run_success')!.samples[0].value).toBe(0);
}, 120_000);

it('a run that dies where no JavaScript runs still leaves a page for --report out.html (from the watcher)', async () => {
  const killed = ws.config(
    {
      name: 'report-killed',
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [{ name: 'kills', module: path.join(FIXTURE_STAGES, 'e2e-fail.ts'), mode: 'inline', options: { at: 2, how: 'kill' } }],
      sink: { format: 'csv', path: 'out/k.csv' },
    },
    'killed.config.ts',
  );
  const html = path.join(ws.dir, 'killed.html');
  const r = await runCli(['run', killed, '--quiet', '--report', html], { timeoutMs: 90_000 });
  expect(r.signal ?? r.code).not.toBe(0);
  const page = readFileSync(html, 'utf8');
  expect(page).toMatch(/^<!doctype html>/);
  expect(statSync(html).mode & 0o777).toBe(0o600); // the watcher's report too (it holds the params)
  expect(page).toMatch(/<h1>✖ report-killed<\/h1><p>SLUICE_RUN_DIED: the run \(pid \d+\) died without a word: [^<]*stage &#34;kills&#34; \(inline\) in process\(\) on batch #2/);
}, 120_000);

// Checked before the run starts, not found after the sink committed (issue 23): nothing runs.
it.each(['report', 'metrics'])('refuses a --%s file in a missing directory before anything runs', async (what) => {
  const out = path.join(ws.dir, 'out', `never-${what}.csv`);
  const r = await runCli(['run', cfg, '--quiet', '--sink-path', out, `--${what}`, path.join(ws.dir, 'no-such-dir', 'x.out')], { timeoutMs: 90_000 });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`cannot write the ${what} file .*no-such-dir.*x\\.out: the directory .*no-such-dir does not exist \\(create it first\\); nothing was run`));
  expect(existsSync(out)).toBe(false);
}, 120_000);

describeWithChromium('--report out.html in a real browser', () => {
  it('renders the timeline, channel depth, rows/s and memory charts offline, with the stage table', async () => {
    // The page of the run the first describe checks (its r.json): the same report the CLI renders for r.html.
    expect((await main()).code).toBe(0);
    const html = pageOf(path.join(ws.dir, 'r.json'), path.join(ws.dir, 'r.html'));
    const page = readFileSync(html, 'utf8');
    // self-contained: nothing is loaded from elsewhere
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
    const dom = renderedDom(html);
    expect(rendered(dom)).toBe('ok');
    expect(markCount(dom, 'timeline', 'rect')).toBeGreaterThanOrEqual(3); // at least one bar per lane
    const busyLanes = new Set([...dom.matchAll(/aria-label="[^"]*lane: ([^;"]+); [^"]*copy state: busy"/g)].map((m) => m[1]));
    expect([...busyLanes].sort()).toEqual(['one-process-copy', 'two-thread-copies #1', 'two-thread-copies #2']);
    expect(markCount(dom, 'batches', 'rect')).toBe(62); // 30 batches and a flush per stage
    expect(markCount(dom, 'depth', 'line')).toBeGreaterThan(0);
    expect(markCount(dom, 'rate', 'line')).toBeGreaterThan(0);
    expect(markCount(dom, 'memory', 'line')).toBeGreaterThan(0);
    expect(dom.match(/<table id="stages">.*?<\/table>/s)?.[0]).toMatch(/one-process-copy.*two-thread-copies/s);
  }, 180_000);

  it('renders a direct CSV → Parquet conversion (no stages of the user\'s): its Parquet encoding stage on the timeline, rows/s and memory', async () => {
    const direct = ws.config({ name: 'report-direct', source: { format: 'csv', path: 'in.csv' }, stages: [], sink: { format: 'parquet', path: 'out/d.parquet' } }, 'direct.config.ts');
    const html = path.join(ws.dir, 'direct.html');
    const json = path.join(ws.dir, 'direct.json');
    expect((await runCli(['run', direct, '--quiet', '--report', json], { timeoutMs: 90_000 })).code).toBe(0);
    const report: RunReport = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.direct).toBeDefined();
    // The conversion is a plan shape, not a runtime of its own: its encoding stage is on the timeline like any stage.
    expect(report.timeline!.stages.map((s) => s.name)).toEqual(['parquet-encode']);
    expect(report.stages.map((s) => [s.name, s.mode, s.rowsIn, s.rowsOut])).toEqual([['parquet-encode', 'thread', 3000, 3000]]);
    expect(report.timeline!.samples.samples[report.timeline!.samples.samples.length - 1].sinkRows).toBe(3000);
    const dom = renderedDom(pageOf(json, html));
    expect(rendered(dom)).toBe('ok');
    const busyLanes = new Set([...dom.matchAll(/aria-label="[^"]*lane: ([^;"]+); [^"]*copy state: busy"/g)].map((m) => m[1]));
    expect([...busyLanes].some((lane) => lane.startsWith('parquet-encode'))).toBe(true);
    expect(markCount(dom, 'rate', 'line')).toBeGreaterThan(0);
    expect(markCount(dom, 'memory', 'line')).toBeGreaterThan(0);
  }, 180_000);

  it('renders a failed run’s page with its error', async () => {
    // Written by the CLI (a .html name): the run that also wrote fail.prom.
    const html = path.join(ws.dir, 'fail.html');
    const r = await failed();
    expect(r.code).toBe(1);
    expect(statSync(html).mode & 0o777).toBe(0o600);
    const dom = renderedDom(html);
    expect(rendered(dom)).toBe('ok');
    expect(dom.match(/class="error">([^<]*)</)?.[1]).toMatch(/^SLUICE_STAGE_FAILED: .*deliberate failure/);
    expect(markCount(dom, 'timeline', 'rect')).toBeGreaterThan(0);
    expect(existsSync(path.join(ws.dir, 'out', 'f.csv'))).toBe(false);
  }, 180_000);
});
