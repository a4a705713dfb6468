/**
 * A thread stage first parses the CSV in its copies (plan.parseIn): the source's errors keep
 * their file, line and column, the earliest bad chunk in input order is the one reported
 * (chunks parse concurrently), and edge files (header only, several files whose types the
 * first one fixes) come out as with a source thread.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import pino from 'pino';
import { checkConfig } from '../../../src/config';
import type { PipelineConfig } from '../../../src/config/types';
import { buildPlan } from '../../../src/plan/build';
import { reportOf, runPlan } from '../../../src/runtime/run';

const PASS_THROUGH = path.resolve(__dirname, '../../../src/worker/passthrough.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-fused-'));
const quiet = pino({ level: 'silent' });

const pipeline = (name: string, input: string, thread?: boolean): PipelineConfig => ({
  name,
  source: { format: 'csv', path: input, batchRows: 100, inferRows: 50, ...(thread === undefined ? {} : { thread }) },
  stages: [{ name: 'pass', module: PASS_THROUGH, mode: 'thread', concurrency: 2 }],
  sink: { format: 'arrow', path: `out/${name}.arrow` },
});

async function run(config: PipelineConfig) {
  const resolved = checkConfig(config, '', dir);
  const plan = buildPlan(resolved.config, resolved);
  return { plan, report: await runPlan(plan, { log: quiet }) };
}

const rows = (name: string) => tableFromIPC(readFileSync(path.join(dir, 'out', `${name}.arrow`))).toArray().map((r) => JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? String(v) : v)));

beforeAll(() => mkdirSync(path.join(dir, 'in')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('names the first bad value in input order, with file, line and column, though chunks parse on two threads', async () => {
  // rows 150 and 451 are bad: chunks 1 and 4 of 6 (100 rows each)
  writeFileSync(path.join(dir, 'in/twice.csv'), 'n\n' + Array.from({ length: 600 }, (_, i) => (i === 150 || i === 451 ? 'x' : String(i))).join('\n') + '\n');
  for (let k = 0; k < 3; k++) {
    const err = await run(pipeline('twice', 'in/twice.csv')).catch((e) => e);
    expect(err.code).toBe('SLUICE_SOURCE_INVALID');
    expect(err.message).toContain(`${path.join(dir, 'in/twice.csv')}, line 152, column "n": value "x" is not a valid int64`);
    expect(reportOf(err)?.ok).toBe(false);
  }
});

it('a bad value in the last chunk is reported after every chunk before it went through', async () => {
  writeFileSync(path.join(dir, 'in/late.csv'), 'n\n' + Array.from({ length: 350 }, (_, i) => (i === 340 ? '1.5' : String(i))).join('\n') + '\n');
  const err = await run(pipeline('late', 'in/late.csv')).catch((e) => e);
  expect(err.message).toContain('late.csv, line 342, column "n": value "1.5" is not a valid int64');
});

it('gives what a source thread gives: several files (types fixed by the first), quoted newlines, a header-only file', async () => {
  mkdirSync(path.join(dir, 'in/many'));
  const line = (i: number) => `${i},"name ${i}${i % 7 === 0 ? '\nwith a newline' : ''}",${i % 5 === 0 ? '' : (i / 4).toFixed(2)}`;
  writeFileSync(path.join(dir, 'in/many/a.csv'), 'id,name,v\n' + Array.from({ length: 230 }, (_, i) => line(i)).join('\n') + '\n');
  writeFileSync(path.join(dir, 'in/many/b.csv'), 'id,name,v\n');
  writeFileSync(path.join(dir, 'in/many/c.csv'), 'id,name,v\n' + Array.from({ length: 170 }, (_, i) => line(230 + i)).join('\n') + '\n');
  const fused = await run(pipeline('many-fused', 'in/many/*.csv'));
  const unfused = await run(pipeline('many-unfused', 'in/many/*.csv', true));
  expect(fused.plan.parseIn).toEqual({ stage: 'pass', rowsPerChunk: 100 });
  expect(unfused.plan.parseIn).toBeUndefined();
  expect(fused.report.stages[0].parsed?.rows).toBe(400);
  expect(rows('many-fused')).toEqual(rows('many-unfused'));
  expect(rows('many-fused')).toHaveLength(400);
});

it('keeps every column type a CSV can be given exactly as a source thread does, nulls, extremes and quoting included', async () => {
  const header = 'u,b,i8,i16,i32,i64,u8,u16,u32,u64,f32,f64,d,dt,ts';
  const lines = Array.from({ length: 260 }, (_, i) => {
    const text = i % 9 === 0 ? '' : i % 5 === 0 ? '"quoted, ""with"" comma\nand a newline é"' : `plain ${i} ✓`;
    const big = i % 2 ? '9223372036854775807' : '-9223372036854775808';
    return [text, i % 3 ? 'true' : 'false', -128 + (i % 256), -32768 + i, 2147483647 - i, big, i % 256, 65535 - i, 4294967295 - i, '18446744073709551615', (i / 3).toFixed(5), i % 11 === 0 ? '' : String(1e300 / (i + 1)), `2026-${String(1 + (i % 12)).padStart(2, '0')}-15`, `2026-11-30 23:59:${String(i % 60).padStart(2, '0')}`, `1970-01-01 00:00:0${i % 10}`].join(',');
  });
  writeFileSync(path.join(dir, 'in/types.csv'), header + '\n' + lines.join('\n') + '\n');
  const schema = { u: 'utf8', b: 'bool', i8: 'int8', i16: 'int16', i32: 'int32', i64: 'int64', u8: 'uint8', u16: 'uint16', u32: 'uint32', u64: 'uint64', f32: 'float32', f64: 'float64', d: 'date', dt: 'datetime', ts: 'timestamp' } as const;
  const typed = (name: string, thread?: boolean): PipelineConfig => {
    const p = pipeline(name, 'in/types.csv', thread);
    return { ...p, source: { ...p.source, schema } };
  };
  const fused = await run(typed('types-fused'));
  await run(typed('types-unfused', true));
  expect(fused.report.stages[0].parsed?.rows).toBe(260);
  const read = (name: string) => tableFromIPC(readFileSync(path.join(dir, 'out', `${name}.arrow`)));
  expect(read('types-fused').schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(read('types-unfused').schema.fields.map((f) => `${f.name}:${f.type}`));
  expect(rows('types-fused')).toEqual(rows('types-unfused'));
  expect(rows('types-fused')).toHaveLength(260);
  // spot checks against the text itself, not only against the other path
  const first = JSON.parse(rows('types-fused')[1]);
  expect(first).toMatchObject({ u: 'plain 1 ✓', b: true, i8: -127, i64: '9223372036854775807', u64: '18446744073709551615' });
});
