/**
 * Bad CSV and NDJSON input through the CLI: a non-zero exit and a message naming file, line
 * and column, and nothing at the sink path; what used to pass silently changed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => (ws = workspace()));
afterAll(() => ws.cleanup());

const ECHO = path.join(FIXTURE_STAGES, 'proc-echo.ts');

async function runWith(input: string, content: string, source: Record<string, unknown> = {}, format = 'csv') {
  writeFileSync(path.join(ws.dir, input), content);
  const cfg = ws.config(
    {
      name: 'csvin',
      source: { format, path: input, ...source },
      stages: [{ name: 'echo', module: ECHO, mode: 'inline' }],
      sink: { format: 'csv', path: `out/${input}.csv` },
    },
    `${input}.config.ts`,
  );
  const r = await runCli(['run', cfg, '--quiet']);
  return { ...r, out: path.join(ws.dir, 'out', `${input}.csv`) };
}

it('columns named "" and "null" pass a stage apart and come out as they came in (through a stage "" used to become "null" and take its values)', async () => {
  const r = await runWith('empty-name.csv', '"",null,x\n1,2,3\n');
  expect(r.code).toBe(0);
  expect(readFileSync(r.out, 'utf8')).toBe('"",null,x\n1,2,3\n');
});

it('source.maxRowBytes stops a huge row early, naming file and line', async () => {
  const r = await runWith('long.csv', 'a,b\n1,2\n3,' + 'x'.repeat(100_000) + '\n', { maxRowBytes: 4096 });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${path.join(ws.dir, 'long.csv')}, line 3: row longer than 4096 bytes (source.maxRowBytes)`);
  expect(existsSync(r.out)).toBe(false);
});

it('a quote inside an unquoted field names file, line and column', async () => {
  const r = await runWith('quote.csv', 'a,b,c\n1,2,3\n4,b"c,d\n');
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${path.join(ws.dir, 'quote.csv')}, line 3, column "b": a quote inside an unquoted field`);
});

it('an NDJSON error names its physical line', async () => {
  const lines = Array.from({ length: 150 }, (_, i) => JSON.stringify({ x: i }));
  lines[100] = '{"x": ';
  const r = await runWith('bad.ndjson', lines.join('\n') + '\n', {}, 'ndjson');
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${path.join(ws.dir, 'bad.ndjson')}, line 101: not valid JSON`);
});
