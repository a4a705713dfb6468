/** The run report's peak RSS counts the stage child processes, not only the main process. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 500);
});
afterAll(() => ws.cleanup());

it('adds each child process peak to the main process peak', async () => {
  const cfg = ws.config({
    name: 'mem',
    source: { format: 'csv', path: 'in.csv', batchRows: 100 },
    stages: [{ name: 'hog', module: path.join(FIXTURE_STAGES, 'mem-hog.ts'), mode: 'process', concurrency: 2, options: { mb: 200 } }],
    sink: { format: 'csv', path: 'out/mem.csv' },
  });
  const reportFile = path.join(ws.dir, 'report.json');
  const r = await runCli(['run', cfg, '--report', reportFile]);
  expect(r.code).toBe(0);
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const children = report.peakRss.children as Array<{ stage: string; copy: number; bytes: number }>;
  expect(children.map((c) => [c.stage, c.copy])).toEqual([
    ['hog', 0],
    ['hog', 1],
  ]);
  for (const child of children) expect(child.bytes).toBeGreaterThan(200 * 1024 * 1024);
  expect(report.peakRssBytes).toBe(report.peakRss.mainBytes + children[0].bytes + children[1].bytes);
  expect(r.stderr).toMatch(/peak RSS .* \(main .* \+ 2 child process\(es\) .*\)/);
});
