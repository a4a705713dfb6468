/**
 * process.exit called by user code while sluice loads it throws instead, naming the file, in
 * every place user code is loaded in the main process: a config, a helper it imports, its
 * default-export function, a source.path function, a stage module; a module that catches the
 * throw is reported all the same; overlapping loads give process.exit back after the last.
 * (Through the CLI, exit codes and an ES module config included: test/e2e/config-exit.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPipeline } from '../../../src/check';
import { loadConfigFile } from '../../../src/config/load';
import { ConfigError } from '../../../src/errors';
import { computeFromParams } from '../../../src/config/from-params';
import { loadWithoutExit } from '../../../src/loader';
import { loadStageDefinition } from '../../../src/worker/load';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-load-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const realExit = process.exit;
afterEach(() => expect(process.exit).toBe(realExit));

const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const PIPELINE = "{ name: 'p', source: { format: 'csv', path: 'in.csv' }, stages: [], sink: { format: 'csv', path: 'o.csv' } }";

it.each([
  ['the config itself', 'a.config.ts', `process.exit(0);\nexport default ${PIPELINE};`, 'the config {file} called process.exit(0) while loading'],
  ['a helper the config imports', 'b.config.ts', `import './b-helper';\nexport default ${PIPELINE};`, 'the config {file} called process.exit(3) while loading'],
  ["the config's default-export function", 'c.config.ts', `export default async () => { await null; process.exit(); return ${PIPELINE}; };`, 'the config {file} (its default export function) called process.exit() while loading'],
  ['a config that catches the throw', 'd.config.ts', `try { process.exit(0); } catch {}\nexport default ${PIPELINE};`, 'the config {file} called process.exit(0) while loading'],
])('%s: loading fails naming the config', async (_where, name, text, expected) => {
  file('b-helper.ts', 'process.exit(3);\nexport {};\n');
  const config = file(name, text);
  await expect(loadConfigFile(config)).rejects.toThrow(`could not load pipeline config ${config}: ${expected.replace('{file}', config)}`);
});

it('a source.path function: its path is unresolved, with the reason', async () => {
  const r = await computeFromParams({ source: { path: () => process.exit(0) } }, { values: {}, types: {}, from: {} });
  expect(r.issues).toEqual([{ path: 'source.path', message: 'its function threw: the function of source.path called process.exit(0) while loading; code sluice loads or checks must not end the process (it would exit with that code having run nothing): throw an Error to fail instead' }]);
});

it('a stage module (as validate and every copy load it)', async () => {
  const stage = file('exits-stage.ts', "process.exit(0);\nexport default { process: (b: unknown) => b };\n");
  await expect(loadStageDefinition(stage)).rejects.toThrow(`cannot load ${stage}: the stage module ${stage} called process.exit(0) while loading`);
});

it('overlapping loads: only calls inside a load throw, and process.exit is given back after the last', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const first = loadWithoutExit('first', () => held);
  const second = loadWithoutExit('second', () => {
    throw new Error('fails by itself');
  });
  await expect(second).rejects.toThrow('fails by itself');
  expect(process.exit).not.toBe(realExit); // the first is still loading
  release();
  await first;
});

it("a stage's own functions called while checking (reads, outputColumns): the check reports it, naming the function", async () => {
  const stage = file('reads-exits.ts', 'export default { process: (b: unknown) => b, reads: () => process.exit(0), outputColumns: () => process.exit(2) };\n');
  file('in.csv', 'id\n1\n');
  const config = { name: 'p', source: { format: 'csv', path: 'in.csv' }, stages: [{ name: 's', module: stage, mode: 'inline' }], sink: { format: 'csv', path: 'o.csv' } };
  const err = await checkPipeline(config, { file: path.join(dir, 'p.config.ts'), baseDir: dir }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  const issues = (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  expect(issues).toContain("stages[0].module: the stage's reads(options) threw: the stage's reads(options) called process.exit(0) while being checked; code sluice loads or checks must not end the process (it would exit with that code having run nothing): throw an Error to fail instead");
  expect(issues.some((i) => i.includes("the stage's outputColumns(input, options) called process.exit(2) while being checked"))).toBe(true);
});
