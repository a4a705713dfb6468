/**
 * The mode of the files the CLI writes after a run (src/cli/whole-file.ts): a new run report is
 * 0600 (it holds the params, which can be secrets from the environment), a new metrics file has
 * the usual mode, an existing file keeps its mode exactly, and the umask can only narrow a new
 * file's mode. Through the writers `run` uses (the report, JSON and HTML; the metrics).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failedBeforeRun, writeMetricsFile } from '../../../src/cli/metrics-file';
import { writeRunReport } from '../../../src/cli/report-html';
import { PRIVATE_MODE, writeWholeFile } from '../../../src/cli/whole-file';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-whole-file-'));
const umask = process.umask();
afterEach(() => process.umask(umask));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mode = (f: string) => statSync(f).mode & 0o7777;
let n = 0;
const fresh = (ext: string) => path.join(dir, `f${n++}.${ext}`);
const report = { ...failedBeforeRun('p'), params: { token: 's3cret' } };

const writers = {
  'JSON report': { ext: 'json', write: (f: string) => writeRunReport(f, report), created: 0o600 },
  'HTML report': { ext: 'html', write: (f: string) => writeRunReport(f, report), created: 0o600 },
  metrics: { ext: 'prom', write: (f: string) => writeMetricsFile(f, report), created: 0o666 },
};

describe.each(Object.entries(writers))('%s', (_what, w) => {
  it.each([0o022, 0o002, 0o077].map((m) => [m.toString(8), m] as const))('a new file: the writer\'s mode less the umask %s', (_shown, mask) => {
    process.umask(mask);
    const f = fresh(w.ext);
    w.write(f);
    expect(mode(f)).toBe(w.created & ~mask);
  });

  it.each([0o640, 0o604, 0o600, 0o644].map((m) => [m.toString(8), m] as const))('an existing file keeps its mode %s, even where the umask would narrow it', (_shown, kept) => {
    process.umask(0o077);
    const f = fresh(w.ext);
    writeFileSync(f, 'old');
    chmodSync(f, kept);
    w.write(f);
    expect(mode(f)).toBe(kept);
    expect(readFileSync(f, 'utf8')).not.toBe('old');
  });
});

it('the metrics hold no params (so the usual mode): the report does', () => {
  const prom = fresh('prom');
  writeMetricsFile(prom, report);
  expect(readFileSync(prom, 'utf8')).not.toContain('s3cret');
  const json = fresh('json');
  writeRunReport(json, report);
  expect(readFileSync(json, 'utf8')).toContain('s3cret');
});

it('a stale temporary of a dead run with the same pid (mode 0666) does not lend its mode', () => {
  process.umask(0);
  const f = fresh('json');
  writeFileSync(`${f}.${process.pid}.tmp`, 'stale', { mode: 0o666 });
  writeWholeFile(f, 'new', PRIVATE_MODE);
  expect(mode(f)).toBe(0o600);
  expect(readFileSync(f, 'utf8')).toBe('new');
});
