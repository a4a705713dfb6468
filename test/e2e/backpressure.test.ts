/** With a slow stage, the source never reads further ahead than the channel capacity allows. */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 3000);
});
afterAll(() => ws.cleanup());

it.each(['inline', 'thread', 'process'])('bounds read-ahead before a slow %s stage to the capacity', async (mode) => {
  const cfg = ws.config(
    {
      name: `bp-${mode}`,
      source: { format: 'csv', path: 'in.csv', batchRows: 50 },
      channel: { capacity: 2 },
      stages: [{ name: 'slow', module: path.join(FIXTURE_STAGES, 'e2e-slow.ts'), mode, concurrency: 1, options: { ms: 10 } }],
      sink: { format: 'csv', path: `out/bp-${mode}.csv` },
    },
    `bp-${mode}.config.ts`,
  );
  const reportFile = path.join(ws.dir, `bp-${mode}.json`);
  const r = await runCli(['run', cfg, '--quiet', '--report', reportFile]);
  expect(r.code).toBe(0);
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  expect(report.source.batches).toBe(60);
  const [sourceChannel, sinkChannel] = report.channels;
  // never beyond the bound; off the main thread the source reaches it (so the bound is what held it back)
  expect(sourceChannel.capacity).toBe(2);
  expect(sourceChannel.peakDepth).toBeLessThanOrEqual(2);
  if (mode !== 'inline') expect(sourceChannel.peakDepth).toBe(2);
  expect(sinkChannel.peakDepth).toBeLessThanOrEqual(2);
  if (mode !== 'inline') expect(report.source.blockedMs).toBeGreaterThan(0);
  expect(report.stages[0].peakInFlight).toBeLessThanOrEqual(report.stages[0].copies * (mode === 'process' ? 2 : 1));
});
