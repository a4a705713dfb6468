/**
 * Text from data never reaches the terminal raw: ESC sequences (CSI, OSC, OSC 52), C1 CSI,
 * BEL, backspace, CR and bidi overrides in a header, a value and a file name are shown as
 * visible escapes by `inspect` (text and --json), `explain`, `run` (its summary and the error
 * that quotes a bad value) and error messages; --json keeps them as \u escapes, so a JSON
 * reader gets the exact text back.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { workspace, type Workspace } from '../helpers/workspace';

/** What a terminal acts on instead of showing (LF aside: it ends our own lines). */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CSI = '\u001b[31mred\u001b[0m';
const OSC = '\u001b]0;pwned\u0007';
const OSC52 = '\u001b]52;c;ZWNobw==\u0007';
const C1 = '\u009b2J';
const BIDI = 'gnp.\u202eexe';
const BS_CR = 'ok\b\bNO\rOVER';
const FILE = `data-\u001b[2J\u202e.csv`;

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-terminal-');
  const header = [`"${CSI}"`, `"${OSC}"`, `"${BIDI}"`, `"${BS_CR}"`, 'n'].join(',');
  const row = (i: number) => [`"${OSC52}"`, `"${C1}"`, `"${BIDI}"`, `"${BS_CR}"`, String(i)].join(',');
  writeFileSync(path.join(ws.dir, FILE), `${header}\n${row(1)}\n${row(2)}\n`);
  // inferred integer from the first row, then a value that is an escape sequence: the error quotes it
  writeFileSync(path.join(ws.dir, 'bad.csv'), `n,v\n1,x\n${'\u001b]0;pwned\u0007'},y\n`);
  writeFileSync(path.join(ws.dir, 'dup.csv'), `"${CSI}","${CSI}"\n1,2\n`);
});
afterAll(() => ws.cleanup());

function expectSafe(text: string): void {
  const at = text.search(RAW);
  expect(at === -1 ? 'no raw control or bidi character' : JSON.stringify(text.slice(Math.max(0, at - 20), at + 20))).toBe('no raw control or bidi character');
}

it('inspect shows header, values and the file name escaped', async () => {
  const r = await runCli(['inspect', FILE, '--rows', '2'], { cwd: ws.dir });
  expect(r.code).toBe(0);
  expectSafe(r.stdout);
  expectSafe(r.stderr);
  for (const shown of ['\\x1b[31mred\\x1b[0m', '\\x1b]0;pwned\\x07', 'gnp.\\u202eexe', 'ok\\x08\\x08NO\\rOVER', '\\x1b]52;c;ZWNobw==\\x07', '\\x9b2J', 'data-\\x1b[2J\\u202e.csv']) {
    expect(r.stdout).toContain(shown);
  }
});

it('inspect --json keeps every character, as JSON escapes', async () => {
  const r = await runCli(['inspect', FILE, '--rows', '2', '--json'], { cwd: ws.dir });
  expect(r.code).toBe(0);
  expectSafe(r.stdout);
  const doc = JSON.parse(r.stdout) as { files: { file: string }[]; schema: { name: string }[]; preview: { rows: Record<string, unknown>[] } };
  expect(doc.schema.map((c) => c.name)).toEqual([CSI, OSC, BIDI, BS_CR, 'n']);
  expect(doc.preview.rows[0]).toEqual({ [CSI]: OSC52, [OSC]: C1, [BIDI]: BIDI, [BS_CR]: BS_CR, n: 1 });
  expect(path.basename(doc.files[0].file)).toBe(FILE);
});

it('an error message that quotes data (a duplicate name) is escaped, and exits non-zero', async () => {
  const r = await runCli(['inspect', 'dup.csv'], { cwd: ws.dir });
  expect(r.code).not.toBe(0);
  expectSafe(r.stderr);
  expect(r.stderr).toContain('duplicate column name "\\x1b[31mred\\x1b[0m"');
});

it('explain and run show the file name escaped; a bad value quoted in the run error is escaped', async () => {
  ws.config({ name: 'hostile', source: { format: 'csv', path: FILE }, stages: [], sink: { format: 'csv', path: 'out/o.csv' } });
  const explain = await runCli(['explain'], { cwd: ws.dir });
  expect(explain.code).toBe(0);
  expectSafe(explain.stdout);
  expect(explain.stdout).toContain('data-\\x1b[2J\\u202e.csv');
  const run = await runCli(['run', '--log-level', 'silent'], { cwd: ws.dir });
  expect(run.code).toBe(0);
  expectSafe(run.stderr);

  ws.config({ name: 'bad', source: { format: 'csv', path: 'bad.csv', inferRows: 1 }, stages: [], sink: { format: 'csv', path: 'out/bad.csv' } });
  const bad = await runCli(['run', '--log-level', 'silent'], { cwd: ws.dir });
  expect(bad.code).not.toBe(0);
  expectSafe(bad.stderr);
  expect(bad.stderr).toMatch(/value "\\u001b\]0;pwned\\u0007"|value "\\x1b\]0;pwned\\x07"/); // quoted as JSON, or escaped here
});
