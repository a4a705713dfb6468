/**
 * A stage's exception names the user's own file and line (the top frame of their code, with
 * TypeScript positions), in every mode and at the default log level. Before, the message
 * named the stage and batch but never where in the stage it was thrown, even at debug level
 * (the stack shown was sluice's host.ts).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { workspace, type Workspace } from '../helpers/workspace';
import { userFrame } from '../../src/errors';

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-frame-');
  writeFileSync(path.join(ws.dir, 'in.csv'), 'id\n1\n');
  // `new Error` is on line 7, column 34 of the TypeScript (the type declarations before it shift the JavaScript).
  writeFileSync(
    path.join(ws.dir, 'boom.ts'),
    `import { defineStage } from 'sluice';

interface Options { limit?: number }

export default defineStage<Options>({
  process(batch) {
    if (batch.numRows > 0) throw new Error('bad row');
    return batch;
  },
});
`,
  );
});
afterAll(() => ws.cleanup());

it.each(['inline', 'thread', 'process'])('%s: the message ends with the stage file, line and column', async (mode) => {
  const config = ws.config({ name: 'b', source: { format: 'csv', path: 'in.csv' }, stages: [{ name: 'boom', module: './boom.ts', mode }], sink: { format: 'csv', path: 'out/o.csv' } }, `${mode}.config.ts`);
  const r = await runCli(['run', config, '--quiet'], { cwd: ws.dir });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`stage "boom", copy 0, batch #0, from ${path.join(ws.dir, 'in.csv')} failed in process(): bad row at ${path.join(ws.dir, 'boom.ts')}:7:34`);
});

it("skips frames of node and of packages; none when sluice's own code threw", () => {
  const err = new Error('x');
  const host = `    at g (${path.resolve(__dirname, '../../src/worker/host.ts')}:160:17)`;
  err.stack = ['Error: x', '    at node:internal/process/task_queues:95:5', '    at f (/srv/etl/node_modules/apache-arrow/table.js:1:2)', '    at h (file:///srv/etl/stages/my%20stage.ts:42:11)', host].join('\n');
  expect(userFrame(err)).toBe('/srv/etl/stages/my stage.ts:42:11');
  // A package sluice bundled (built: dist/vendor/apache-arrow.cjs, src/arrow-bundle.ts) is a package, not sluice's own code.
  err.stack = ['Error: x', `    at f (${path.resolve(__dirname, '../../dist/vendor/apache-arrow.cjs')}:1:2)`, '    at h (/srv/etl/stages/s.ts:42:11)', host].join('\n');
  expect(userFrame(err)).toBe('/srv/etl/stages/s.ts:42:11');
  err.stack = ['Error: x', host, '    at h (/srv/etl/stages/s.ts:42:11)'].join('\n');
  expect(userFrame(err)).toBeUndefined();
  expect(userFrame('not an error')).toBeUndefined();
});
