/**
 * User code that calls process.exit while sluice loads it (a config, a helper the config
 * imports, the config's default-export function, a source.path function, a stage module)
 * fails `validate` and `run` with a non-zero exit naming the file, never exits 0 having
 * checked and run nothing (a CI `sluice validate` gate passed so). Through the CLI: the
 * config and a stage module × both commands; every other place (a helper, the default-export
 * function, a path function, a module that catches the throw) in test/unit/config/load-exit.test.ts,
 * in process (one guard serves them all; a CLI run each would take minutes on a shared machine).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-config-exit-');
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 10);
  writeFileSync(path.join(ws.dir, 'helper.ts'), 'process.exit(0);\nexport const source = { format: "csv", path: "in.csv" } as const;\n');
  writeFileSync(path.join(ws.dir, 'exiting-stage.ts'), "import { defineStage } from 'sluice';\nprocess.exit(0);\nexport default defineStage({ process: (b) => b });\n");
});
afterAll(() => ws.cleanup());

const sink = (name: string) => `{ format: 'csv', path: 'out/${name}.csv' }`;
const CASES: Array<[string, (name: string) => string, string]> = [
  ['the config itself', (n) => `process.exit(0);\nexport default definePipeline({ name: '${n}', source: { format: 'csv', path: 'in.csv' }, stages: [], sink: ${sink(n)} });`, 'the config {config} called process.exit(0) while loading'],
  ['a stage module', (n) => `export default definePipeline({ name: '${n}', source: { format: 'csv', path: 'in.csv' }, stages: [{ name: 's', module: './exiting-stage.ts', mode: 'inline' }], sink: ${sink(n)} });`, 'the stage module {dir}/exiting-stage.ts called process.exit(0) while loading'],
];

describe.each(['validate', 'run'])('sluice %s', (command) => {
  it.each(CASES)('process.exit(0) in %s: exit 1, naming the file', async (_where, body, expected) => {
    const name = `${command}-${CASES.findIndex((c) => c[1] === body)}`;
    await expectRefused(command, name, `${name}.config.ts`, body, expected);
  });
});

it('an ES module config (.mts, loaded by import()) that exits: validate exits 1 naming it', async () => {
  await expectRefused('validate', 'esm', 'esm.config.mts', CASES[0][1], CASES[0][2]);
});

async function expectRefused(command: string, name: string, fileName: string, body: (name: string) => string, expected: string): Promise<void> {
  const config = path.join(ws.dir, fileName);
  writeFileSync(config, `import { definePipeline } from 'sluice';\n${body(name)}\n`);
  const r = await runCli([command, config, ...(command === 'run' ? ['--quiet'] : [])]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(expected.replace('{config}', config).replace('{dir}', ws.dir));
  expect(ws.outFiles()).toEqual([]);
}

it('a timer a config set while loading that calls process.exit(0) later: validate exits 70, saying it did not finish', async () => {
  const config = path.join(ws.dir, 'timer.config.ts');
  // The path function waits on a later timer, so the exit comes mid-validate by construction (timers fire in order).
  writeFileSync(
    config,
    "import { definePipeline } from 'sluice';\nsetTimeout(() => process.exit(0), 0);\nexport default definePipeline({ name: 'timer', source: { format: 'csv', path: async () => { await new Promise((r) => setTimeout(r, 20)); return 'in.csv'; } }, stages: [], sink: { format: 'csv', path: 'out/timer.csv' } });\n",
  );
  const r = await runCli(['validate', config]);
  expect(r.stderr).toContain('sluice: something called process.exit(0) before `sluice validate` finished');
  expect(r.code).toBe(70);
});
