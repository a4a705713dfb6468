/** Source paths through the CLI: validate, explain and run read the same files; a source never reads its own sink. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => (ws = workspace()));
afterAll(() => ws.cleanup());

const csv = (file: string, ...values: number[]) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, ['a', ...values].join('\n') + '\n');
};

it('a config in a folder named job[1] reads its own files, and validate, explain and run agree', async () => {
  const job = path.join(ws.dir, 'job[1] (a)');
  csv(path.join(job, 'data/in.csv'), 1);
  csv(path.join(job, 'data/in[1].csv'), 2);
  csv(path.join(job, 'data/in1.csv'), 3); // what the bracket would glob to
  csv(path.join(ws.dir, 'job1 (a)/data/in.csv'), 99); // what the folder's name would glob to
  const cfg = path.join(job, 'pipeline.config.ts');
  writeFileSync(
    cfg,
    `export default ${JSON.stringify({ name: 'brackets', source: { format: 'csv', path: ['data/in.csv', 'data/in[1].csv'] }, stages: [], sink: { format: 'csv', path: 'out/out.csv' } })};\n`,
  );
  const [validate, explain] = await Promise.all([runCli(['validate', cfg]), runCli(['explain', cfg])]);
  expect(validate.code).toBe(0);
  expect(explain.code).toBe(0);
  const listed = explain.stdout.split('\n').filter((l) => l.includes('.csv') && !l.includes('sink')).map((l) => l.trim());
  expect(listed).toEqual([path.join(job, 'data/in.csv'), path.join(job, 'data/in[1].csv')]);
  const run = await runCli(['run', cfg, '--quiet']);
  expect(run.code).toBe(0);
  expect(readFileSync(path.join(job, 'out/out.csv'), 'utf8')).toBe('a\n1\n2\n');
});

describe('a source that would read the sink', () => {
  it.each([
    ['a glob that matches the output file', 'data/*.csv', 'data/out.csv', {}],
    ['the output file itself', ['data/in.csv', 'data/out.csv'], 'data/out.csv', {}],
    ['a glob over a partitioned output', 'data/**/*.csv', 'data/parts', { partitionBy: ['a'] }],
  ])('%s is refused by validate and run, naming both paths', async (_what, source, sinkPath, extra) => {
    const dir = path.join(ws.dir, `self-${sinkPath.replace(/\W/g, '')}-${Array.isArray(source) ? 'list' : 'glob'}`);
    csv(path.join(dir, 'data/in.csv'), 1, 2);
    if (Array.isArray(source)) csv(path.join(dir, 'data/out.csv'), 7);
    const cfg = path.join(dir, 'pipeline.config.ts');
    writeFileSync(cfg, `export default ${JSON.stringify({ name: 'self', source: { format: 'csv', path: source }, stages: [], sink: { format: 'csv', path: sinkPath, ...extra } })};\n`);
    for (const cmd of ['validate', 'run']) {
      const r = await runCli([cmd, cfg]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/source\.path(\[1\])?: ".*" also names the sink's output /);
      expect(r.stderr).toContain(path.join(dir, sinkPath));
    }
  });
});
