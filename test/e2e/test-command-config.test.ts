/**
 * `sluice test` runs the config that runs at night: params with their defaults and `--set`
 * reach the stages as `ctx.params`, paths that are functions of params are computed (not
 * refused), and a pipeline whose sink is partitioned (sluice adds a partition-by stage) can
 * be tested as a whole. Before, stages got `{}` for params, a path function was refused, there
 * was no --set, and a whole-pipeline case with a partitioned sink failed ("Cannot find module").
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
let config: string;
beforeAll(() => {
  ws = workspace('sluice-test-config-');
  writeFileSync(
    path.join(ws.dir, 'tag.ts'),
    `import { defineStage } from 'sluice';
export default defineStage({
  // Tags every row with the run's region and limit: what ctx.params holds.
  process(batch, ctx) {
    const ids = batch.getChild('id')!.toArray();
    return ctx.table({ id: Array.from(ids, Number), region: Array.from(ids, () => String(ctx.params.region)), limit: Array.from(ids, () => Number(ctx.params.limit)) });
  },
});
`,
  );
  config = path.join(ws.dir, 'pipeline.config.ts');
  for (const [file, sink] of [
    ['pipeline.config.ts', "{ format: 'parquet', path: ({ params }) => `out/${params.day}`, partitionBy: ['region'] }"],
    ['csv.config.ts', "{ format: 'csv', path: 'out/x.csv' }"],
  ])
    writeFileSync(
      path.join(ws.dir, file),
      `import { definePipeline } from 'sluice';
export default definePipeline({
  name: 'params',
  params: { day: { type: 'date', default: '2026-11-30' }, region: 'eu', limit: { type: 'number', default: 100 } },
  source: { format: 'csv', path: ({ params }) => \`in/\${params.day}/*.csv\` }, // never read by \`test\`
  stages: [{ name: 'tag', module: './tag.ts', mode: 'thread' }],
  sink: ${sink},
});
`,
    );
  const cases = `import { defineCases } from 'sluice/testing';
export default defineCases([
  { name: 'the stage sees the params defaults', stage: 'tag', input: [{ id: 1 }], expected: [{ id: 1, region: 'eu', limit: 100 }] },
  { name: 'the whole pipeline', input: [{ id: 1 }, { id: 2 }], expected: [{ id: 1, region: 'eu', limit: 100 }, { id: 2, region: 'eu', limit: 100 }] },
]);
`;
  writeFileSync(path.join(ws.dir, 'pipeline.cases.ts'), cases);
  writeFileSync(path.join(ws.dir, 'csv.cases.ts'), cases);
});
afterAll(() => ws.cleanup());

it('passes with the params defaults, path functions and a partitioned Parquet sink (the whole pipeline too)', async () => {
  const r = await runCli(['test', config], { cwd: ws.dir });
  expect(r.stderr).toBe('');
  expect(r.stdout).toContain('✔ the stage sees the params defaults');
  expect(r.stdout).toContain('✔ the whole pipeline  [pipeline: tag (thread)]');
  expect(r.code).toBe(0);
});

it('--set reaches the stages: the cases written for the defaults now fail, with the diff', async () => {
  const r = await runCli(['test', config, '--set', 'region=us', '--set', 'limit=5'], { cwd: ws.dir });
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('✖ the stage sees the params defaults');
  expect(r.stdout).toMatch(/region: "us", limit: 5/);
});

it('--set is checked as run checks it: an unknown param, a bad value', async () => {
  const r = await runCli(['test', path.join(ws.dir, 'csv.config.ts'), '--set', 'regoin=us', '--set', 'day=2026-13-45'], { cwd: ws.dir });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/regoin/);
  expect(r.stderr).toMatch(/there is no month 13/);
});
