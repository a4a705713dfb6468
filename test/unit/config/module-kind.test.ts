/** Which configs load through require (tsx's require hook alone) and which through import(). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isCommonJs } from '../../../src/config/load';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-kind-'));
  mkdirSync(path.join(tmp, 'esm/deep'), { recursive: true });
  writeFileSync(path.join(tmp, 'esm/package.json'), '{ "type": "module" }');
  mkdirSync(path.join(tmp, 'cjs'));
  writeFileSync(path.join(tmp, 'cjs/package.json'), '{ "name": "x" }');
  mkdirSync(path.join(tmp, 'broken'));
  writeFileSync(path.join(tmp, 'broken/package.json'), '{ nope');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it.each([
  ['cjs/pipeline.config.ts', true],
  ['cjs/pipeline.config.mts', false],
  ['esm/pipeline.config.ts', false],
  ['esm/deep/pipeline.config.js', false],
  ['esm/pipeline.config.cts', true],
  ['esm/pipeline.config.cjs', true],
  ['broken/pipeline.config.ts', false],
])('%s: CommonJS %s', (rel, cjs) => {
  expect(isCommonJs(path.join(tmp, rel))).toBe(cjs);
});
