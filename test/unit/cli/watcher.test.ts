/**
 * The death watch's verdict (src/cli/watcher.cjs) from the markers a run leaves in its state
 * directory, when its pipe closes without "done": nothing committed, committed but no report
 * yet, report and metrics written, exited by itself. The watcher is run for real on a state
 * directory made here, as death-watch.ts makes it.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diedAfterCommit, failedBeforeRun, renderOpenMetrics } from '../../../src/cli/metrics-file';
import { LIGHT_WATCH } from '../../../src/cli/death-watch';
import { parseOpenMetrics } from '../../helpers/openmetrics';

const WATCHER = path.resolve(__dirname, '../../../src/cli/watcher.cjs');
const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-watcher-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Markers = Record<string, string>;

const value = (metrics: string, name: string) => parseOpenMetrics(metrics).get(name)?.samples[0].value;

/** `markers`: the files the run left in its state directory (or made from the report's and metrics' paths). */
async function watch(markers: Markers | ((files: { report: string; metrics: string }) => Markers), lines: string[] = [], how: 'node' | 'light' = 'node', preexisting = true) {
  const dir = mkdtempSync(path.join(root, 'state-'));
  const report = path.join(dir, '..', `${path.basename(dir)}.json`);
  const metrics = path.join(dir, '..', `${path.basename(dir)}.prom`);
  if (preexisting) {
    writeFileSync(report, 'as the run wrote it');
    writeFileSync(metrics, 'as the run wrote it');
  }
  const run = { report, metrics, metricsText: renderOpenMetrics(failedBeforeRun('p')), pipeline: 'p', params: { token: 'x' } };
  writeFileSync(path.join(dir, 'run.json'), JSON.stringify(run), { mode: 0o600 });
  for (const [name, text] of Object.entries(typeof markers === 'function' ? markers({ report, metrics }) : markers)) writeFileSync(path.join(dir, name), text);
  const child =
    how === 'light'
      ? spawn('/bin/sh', ['-c', LIGHT_WATCH, 'sluice-watch', '4242', dir, process.execPath, WATCHER], { stdio: ['pipe', 'ignore', 'pipe'] })
      : spawn(process.execPath, [WATCHER, '4242', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(lines.map((l) => l + '\n').join(''));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const mode = (f: string) => statSync(f).mode & 0o777;
  return { code, stderr, report: readFileSync(report, 'utf8'), metrics: readFileSync(metrics, 'utf8'), dirLeft: existsSync(dir), modes: { report: mode(report), metrics: mode(metrics) } };
}

it('nothing committed: a failed report and success 0, saying nothing was committed and what was running', async () => {
  const r = await watch({}, ['+1 stage "s" (inline) in process() on batch #3']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.report)).toEqual({ pipeline: 'p', ok: false, params: { token: 'x' }, error: { code: 'SLUICE_RUN_DIED', message: 'the run (pid 4242) died without a word: out of memory, a native crash or a kill; it was running stage "s" (inline) in process() on batch #3' } });
  expect(r.metrics).toContain('sluice_run_success{pipeline="p"} 0\n');
  expect(r.stderr).toContain('Nothing was committed');
  expect(r.dirLeft).toBe(false);
});

// The report holds the params (here a token), the metrics neither: the run's own rule (src/cli/whole-file.ts).
it('a new report is 0600 and new metrics have the usual mode; existing files keep theirs', async () => {
  const made = await watch({}, [], 'node', false);
  expect(made.report).toContain('"token"');
  expect(made.modes).toEqual({ report: 0o600, metrics: 0o666 & ~process.umask() });
  const kept = await watch((files) => {
    for (const f of Object.values(files)) {
      writeFileSync(f, 'old');
      chmodSync(f, 0o640);
    }
    return {};
  });
  expect(kept.report).toContain('SLUICE_RUN_DIED');
  expect(kept.modes).toEqual({ report: 0o640, metrics: 0o640 });
});

it('committed, then died before its report: the report says the output was committed, never "Nothing was committed"', async () => {
  const r = await watch({ committed: JSON.stringify(['/out/a.csv']) });
  const report = JSON.parse(r.report);
  expect(report).toMatchObject({ ok: false, committed: ['/out/a.csv'], error: { code: 'SLUICE_RUN_DIED' } });
  expect(report.error.message).toMatch(/^the run \(pid 4242\) died after committing its output \(\/out\/a\.csv\)/);
  expect(r.metrics).toContain('sluice_run_success{pipeline="p"} 0\n');
  expect(r.stderr).toContain('The output is complete and committed');
  expect(r.stderr).not.toContain('Nothing was committed');
});

it.each([
  ['report and metrics written, then died', { committed: '[]', report: '', metrics: '' }, [], 'as the run wrote it', 'as the run wrote it', true],
  ['report written, died before the metrics', { committed: '[]', report: '' }, [], 'as the run wrote it', 'rewritten', true],
  ['exited by itself, "done" lost in a full pipe', { committed: '[]', report: '', metrics: '', exited: '' }, [], 'as the run wrote it', 'as the run wrote it', false],
  ['exited by itself, "done" said', {}, ['done'], 'as the run wrote it', 'as the run wrote it', false],
] as const)('%s: the files the run wrote stay as they are', async (_what, markers, lines, report, metrics, speaks) => {
  const r = await watch(markers, [...lines]);
  expect(r.report).toBe(report);
  if (metrics === 'rewritten') expect(r.metrics).toContain('sluice_run_success{pipeline="p"} 0\n');
  else expect(r.metrics).toBe(metrics);
  expect(r.stderr.includes('died')).toBe(speaks);
  expect(r.dirLeft).toBe(false);
});

// The light watch (death-watch.ts LIGHT_WATCH, a run with no inline timeout): sh and cat keep
// the pipe's lines, and node replays them only when the run did not say it exited.
it.each([
  ['died: says what was still running', {}, ['+1 stage "s" (inline) in process() on batch #3', '+2 stage "s" (inline) in process() on batch #4', '-2'], true],
  ['exited by itself, "done" lost in a full pipe', { exited: '' }, [], false],
  ['"done" said, the exited marker lost', {}, ['done'], false],
] as const)('the light watch: %s', async (_what, markers, lines, speaks) => {
  const r = await watch(markers, [...lines], 'light');
  expect(r.code).toBe(0);
  if (speaks) {
    expect(JSON.parse(r.report).error.message).toBe('the run (pid 4242) died without a word: out of memory, a native crash or a kill; it was running stage "s" (inline) in process() on batch #3');
    expect(r.metrics).toContain('sluice_run_success{pipeline="p"} 0\n');
    expect(r.stderr).toContain('Nothing was committed');
  } else {
    expect([r.report, r.metrics, r.stderr]).toEqual(['as the run wrote it', 'as the run wrote it', '']);
  }
  expect(r.dirLeft).toBe(false);
});

/**
 * Killed after the sink's rename and before the `committed` marker: the `committing` marker,
 * written before the rename, and the disk decide. Each way the rename can stand: a file renamed
 * over the target, a directory (renamed, or killed between moving the old one aside and renaming
 * the new one in), a hard link (error-if-exists) whose temporary was not yet unlinked.
 */
describe('killed around the rename (a committing marker, no committed marker)', () => {
  it.each([
    ['the file was renamed over the target', 'renamed', true],
    ['the directory was renamed in', 'dir-renamed', true],
    ['the temporary is a hard link of the target (not yet unlinked)', 'linked', true],
    ['the temporary is still there (killed before the rename)', 'before', false],
    ['the old directory was moved aside, the new one not yet renamed in', 'aside', false],
  ] as const)('%s: committed = %s', async (_what, state, committed) => {
    const at = mkdtempSync(path.join(root, 'disk-'));
    const [temp, target] = [path.join(at, '.out.sluice-tmp-1-0badcafe'), path.join(at, 'out')];
    if (state === 'renamed') writeFileSync(target, 'new');
    if (state === 'dir-renamed') mkdirSync(target);
    if (state === 'linked') {
      writeFileSync(temp, 'new');
      linkSync(temp, target);
    }
    if (state === 'before') {
      writeFileSync(target, 'old');
      writeFileSync(temp, 'new');
    }
    if (state === 'aside') mkdirSync(temp);
    const marker = { publications: [{ temp, target }], metricsText: renderOpenMetrics(diedAfterCommit('p', [{ target, rows: 1234 }])) };
    const r = await watch({ committing: JSON.stringify(marker) });
    const report = JSON.parse(r.report);
    expect(report.ok).toBe(false);
    expect(value(r.metrics, 'sluice_run_success')).toBe(0);
    if (committed) {
      expect(report).toMatchObject({ committed: [target], error: { code: 'SLUICE_RUN_DIED' } });
      expect(report.error.message).toContain(`died after committing its output (${target})`);
      expect(r.stderr).toContain('The output is complete and committed');
      expect(value(r.metrics, 'sluice_run_committed')).toBe(1);
      expect(value(r.metrics, 'sluice_sink_rows')).toBe(1234);
    } else {
      expect(report.committed).toBeUndefined();
      expect(r.stderr).toContain('Nothing was committed');
      expect(value(r.metrics, 'sluice_run_committed')).toBe(0);
      expect(value(r.metrics, 'sluice_sink_rows')).toBe(0);
    }
    expect(r.dirLeft).toBe(false);
  });
});

/**
 * The run says it is renaming its own report (metrics) into place before the rename, naming its
 * temporary's inode: a kill after the rename leaves the file, a kill before it (the old file is
 * still there) has the watcher replace it.
 */
describe('the report and metrics markers name the file the run is renaming into place', () => {
  const inode = (file: string) => {
    const st = statSync(file);
    return JSON.stringify({ dev: st.dev, ino: st.ino });
  };
  it('renamed: the file in place is the one the marker names, and stays as the run wrote it', async () => {
    const r = await watch(({ report, metrics }) => ({ committed: '[]', report: inode(report), metrics: inode(metrics) }));
    expect([r.report, r.metrics]).toEqual(['as the run wrote it', 'as the run wrote it']);
  });
  it('killed before the rename: the file in place is another (the previous run\'s), and is replaced', async () => {
    const other = path.join(root, 'never-renamed.tmp');
    writeFileSync(other, 'the run\'s temporary, never renamed');
    const r = await watch({ committed: '[]', report: inode(other), metrics: inode(other) });
    expect(JSON.parse(r.report)).toMatchObject({ ok: false, committed: [], error: { code: 'SLUICE_RUN_DIED' } });
    expect(r.metrics).toContain('sluice_run_success{pipeline="p"} 0\n');
  });
});

/**
 * Several sinks: the `committing` marker names every publication, and the disk decides by the
 * rule `sluice recover` follows (io/sinks/journal.ts): every output renamed is committed; one
 * renamed, or the commit journal whole beside every target, is decided but not finished
 * (recover publishes the rest); a journal not whole, and nothing renamed, is nothing committed.
 */
describe('killed in the middle of a commit of two outputs', () => {
  it.each([
    ['before the journal', 'none', { renamed: [false, false], journal: [false, false] }],
    ['while writing the journal (a copy beside the first target only)', 'none', { renamed: [false, false], journal: [true, false] }],
    ['after the journal, before the first rename', 'pending', { renamed: [false, false], journal: [true, true] }],
    ['between the renames', 'pending', { renamed: [true, false], journal: [true, true] }],
    ['after both renames, before the journal went', 'committed', { renamed: [true, true], journal: [true, true] }],
    ['after both renames and the journal went', 'committed', { renamed: [true, true], journal: [false, false] }],
  ] as const)('%s: %s', async (_what, verdict, disk) => {
    const at = mkdtempSync(path.join(root, 'two-'));
    const targets = [path.join(at, 'events'), path.join(at, 'totals.csv')];
    const temps = targets.map((t) => path.join(at, `.${path.basename(t)}.sluice-tmp-4242-0badcafe`));
    const copies = targets.map((t) => path.join(at, `.${path.basename(t)}.sluice-jrnl-4242-1-0badcafe`));
    targets.forEach((target, i) => {
      if (disk.renamed[i]) writeFileSync(target, 'new');
      else {
        writeFileSync(target, 'old');
        writeFileSync(temps[i], 'new');
      }
      if (disk.journal[i]) writeFileSync(copies[i], JSON.stringify({ sluiceCommitJournal: 1, pid: 4242, copies, entries: [] }));
    });
    const publish = targets.map((target, i) => ({ target, rows: 10 + i, sink: path.basename(target) }));
    const marker = { publications: targets.map((target, i) => ({ temp: temps[i], target })), metricsText: renderOpenMetrics(diedAfterCommit('p', publish)), metricsPending: renderOpenMetrics(diedAfterCommit('p', publish, true)) };
    const r = await watch({ committing: JSON.stringify(marker) });
    const report = JSON.parse(r.report);
    expect(report).toMatchObject({ ok: false, error: { code: 'SLUICE_RUN_DIED' } });
    expect(value(r.metrics, 'sluice_run_success')).toBe(0);
    const pending = parseOpenMetrics(r.metrics).get('sluice_run_commit_pending')?.samples[0].value;
    if (verdict === 'committed') {
      expect(report.committed).toEqual(targets);
      expect(report.commitPending).toBeUndefined();
      expect(r.stderr).toContain(`died after committing its output (${targets.join(', ')})`);
      expect(r.stderr).toContain('The output is complete and committed');
      expect([value(r.metrics, 'sluice_run_committed'), pending]).toEqual([1, undefined]);
      expect(parseOpenMetrics(r.metrics).get('sluice_sink_rows')!.samples.map((s) => [s.labels.sink, s.value])).toEqual([['events', 10], ['totals.csv', 11]]);
    } else if (verdict === 'pending') {
      expect(report.committed).toBeUndefined();
      expect(report.commitPending).toEqual(targets);
      expect(r.stderr).toContain(`died in the middle of committing ${targets.join(', ')}`);
      expect(r.stderr).toContain('Run `sluice recover`');
      expect(r.stderr).not.toContain('Nothing was committed');
      expect([value(r.metrics, 'sluice_run_committed'), pending]).toEqual([0, 1]);
    } else {
      expect(report.committed).toBeUndefined();
      expect(report.commitPending).toBeUndefined();
      expect(r.stderr).toContain('Nothing was committed');
      expect([value(r.metrics, 'sluice_run_committed'), pending]).toEqual([0, undefined]);
    }
    expect(r.dirLeft).toBe(false);
  });
});
