/**
 * Every CSV file's header is checked before the first batch: a bad header in the last of many
 * files fails the run before any stage sees a batch and before anything is written, naming that
 * file; in both ways a CSV source is read (batches to a stage; chunks of a plain conversion).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../../../src/config';
import type { PipelineConfig } from '../../../../src/config/types';
import { SourceError } from '../../../../src/errors';
import { openCsvChunks, openSource } from '../../../../src/io/sources';
import { checkCsvHeaders } from '../../../../src/io/sources/csv/headers';
import { buildPlan } from '../../../../src/plan/build';
import { runPlan } from '../../../../src/runtime/run';

const MARKER = path.resolve(__dirname, '../../../fixtures/stages/batch-marker.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-csv-headers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = pino({ level: 'silent' });
const FILES = 60;

/** `FILES` files of 3 rows in `<name>/in`; the last one's header is `last` (bytes as latin1: \xff is the byte 0xff). */
function inputs(name: string, last: string): string {
  const d = path.join(dir, name);
  mkdirSync(path.join(d, 'in'), { recursive: true });
  for (let i = 0; i < FILES; i++) {
    const header = i === FILES - 1 ? last : 'id,name,value';
    writeFileSync(path.join(d, 'in', `f${String(i).padStart(3, '0')}.csv`), Buffer.from(`${header}\n${i * 3},a,1.5\n${i * 3 + 1},b,2.5\n${i * 3 + 2},c,3.5\n`, 'latin1'));
  }
  return d;
}
const lastFile = (d: string) => path.join(d, 'in', `f${String(FILES - 1).padStart(3, '0')}.csv`);

const BAD_HEADERS: [string, string, RegExp][] = [
  ['other columns', 'id,name,amount', /columns differ from .*f000\.csv: id, name, amount vs id, name, value/],
  ['columns in another order', 'id,value,name', /columns differ/],
  ['a duplicate name', 'id,name,name', /duplicate column name "name"/],
  ['an invalid UTF-8 name', 'id,na\xffme,value', /UTF-8/],
];

describe.each(BAD_HEADERS)(`the last of ${FILES} files has %s`, (what, header, message) => {
  const expectLastFile = (err: unknown, d: string) => {
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).file).toBe(lastFile(d));
    expect((err as Error).message).toMatch(message);
  };

  it('a run fails before any stage sees a batch, writes nothing, and names the file', async () => {
    const d = inputs(`run-${what.replace(/\W/g, '-')}`, header);
    const marks = path.join(d, 'marks');
    mkdirSync(marks);
    const config: PipelineConfig = {
      name: 'headers',
      source: { format: 'csv', path: `${d}/in/*.csv`, batchRows: 3 },
      stages: [{ name: 'mark', module: MARKER, mode: 'inline', options: { dir: marks } }],
      sink: { format: 'csv', path: path.join(d, 'out.csv') },
    };
    const resolved = checkConfig(config, '', dir);
    const err = await runPlan(buildPlan(resolved.config, resolved), { log: quiet }).catch((e: unknown) => e);
    expectLastFile(err, d);
    expect(readdirSync(marks)).toEqual([]);
    expect(existsSync(path.join(d, 'out.csv'))).toBe(false);
  });

  it('the batches and the chunks of the source give nothing before the error', async () => {
    const d = inputs(`source-${what.replace(/\W/g, '-')}`, header);
    const source = await openSource({ format: 'csv', path: `${d}/in/*.csv`, batchRows: 3 });
    expectLastFile(await source.batches().next().catch((e: unknown) => e), d);
    const chunks = openCsvChunks({ format: 'csv', path: `${d}/in/*.csv`, batchRows: 3 }, 3);
    expectLastFile(await chunks.chunks().next().catch((e: unknown) => e), d);
  });
});

it('a plain CSV → Parquet conversion (the direct path) fails before writing, naming the file', async () => {
  const d = inputs('direct', 'id,name,amount');
  const config: PipelineConfig = { name: 'direct', source: { format: 'csv', path: `${d}/in/*.csv` }, stages: [], sink: { format: 'parquet', path: path.join(d, 'out.parquet') } };
  const resolved = checkConfig(config, '', dir);
  const plan = buildPlan(resolved.config, resolved);
  expect(plan.direct).toBeDefined();
  await expect(runPlan(plan, { log: quiet })).rejects.toThrow(/f059\.csv.*columns differ from/s);
  expect(existsSync(path.join(d, 'out.parquet'))).toBe(false);
});

it('reports the earliest bad file in reading order, however the reads interleave', async () => {
  const d = path.join(dir, 'two-bad');
  mkdirSync(d);
  const files = Array.from({ length: 40 }, (_, i) => path.join(d, `f${String(i).padStart(2, '0')}.csv`));
  files.forEach((f, i) => writeFileSync(f, `${i === 7 || i === 30 ? 'x,y' : i === 20 ? '' : 'a,b'}\n1,2\n`));
  for (const concurrency of [1, 3, 16]) {
    const err = await checkCsvHeaders(files, { format: 'csv', path: d, batchRows: 10 }, concurrency).catch((e: unknown) => e);
    expect((err as SourceError).file).toBe(files[7]);
  }
  // An empty file is refused up front too (its reader would refuse it, once reached).
  files.forEach((f, i) => writeFileSync(f, i === 25 ? '' : 'a,b\n1,2\n'));
  await expect(checkCsvHeaders(files, { format: 'csv', path: d, batchRows: 10 })).rejects.toThrow(/empty file/);
});

it('with source.columns, a later file needs those columns only, in any order', async () => {
  const d = path.join(dir, 'projected');
  mkdirSync(d);
  writeFileSync(path.join(d, 'a.csv'), 'id,name,value\n1,a,2\n');
  writeFileSync(path.join(d, 'b.csv'), 'value,id,name\n2,1,a\n');
  writeFileSync(path.join(d, 'c.csv'), 'id,other\n1,2\n');
  const cfg = { format: 'csv' as const, path: d, batchRows: 10, columns: ['id', 'value'] };
  await expect(checkCsvHeaders([path.join(d, 'a.csv'), path.join(d, 'b.csv')], cfg)).resolves.toBeUndefined();
  await expect(checkCsvHeaders([path.join(d, 'a.csv'), path.join(d, 'c.csv')], cfg)).rejects.toThrow(/source.columns names "value", not a column of this file/);
});
