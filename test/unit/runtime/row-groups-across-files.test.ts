/**
 * A single-file Parquet sink's row groups span input files: many small files make row groups
 * of `rowGroupSize` rows (the last one shorter), not one group per file. Every way a run
 * writes one Parquet file: the plain conversion (chunks joined on the encoder threads), an
 * inline stage and a thread stage (batches cut by the encoding stage), and a thread stage
 * that parses its own input (fused). The footer is read by hyparquet, the rows too.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import pino from 'pino';
import { checkConfig } from '../../../src/config';
import type { PipelineConfig } from '../../../src/config/types';
import { buildPlan } from '../../../src/plan/build';
import { runPlan } from '../../../src/runtime/run';

const PASS_THROUGH = path.resolve(__dirname, '../../../src/worker/passthrough.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-groups-across-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = pino({ level: 'silent' });
const GROUP = 40;
// Mostly 3-row files, one longer than a group in the middle, one empty of rows (header only).
const SIZES = [...Array(30).fill(3), 95, 0, ...Array(20).fill(3), 7];
const TOTAL = SIZES.reduce((a, b) => a + b, 0);

beforeAll(() => {
  mkdirSync(path.join(dir, 'in'));
  let id = 0;
  SIZES.forEach((n, f) => {
    const lines = ['id,name'];
    for (let i = 0; i < n; i++, id++) lines.push(`${id},n${id}`);
    writeFileSync(path.join(dir, 'in', `f${String(f).padStart(3, '0')}.csv`), lines.join('\n') + '\n');
  });
});

const WAYS: [string, PipelineConfig['stages'], boolean][] = [
  ['the plain conversion (direct)', [], true],
  ['an inline stage', [{ name: 'pass', module: PASS_THROUGH, mode: 'inline' }], false],
  ['a thread stage', [{ name: 'pass', module: PASS_THROUGH, mode: 'thread' }], false],
];

describe.each(WAYS)('%s', (way, stages, direct) => {
  it(`writes row groups of ${GROUP} rows across ${SIZES.length} files, every row in order`, async () => {
    const out = path.join(dir, `out-${way.replace(/\W+/g, '-')}.parquet`);
    const config: PipelineConfig = { name: 'groups', source: { format: 'csv', path: 'in/*.csv', inferRows: 3, batchRows: 16 }, stages, sink: { format: 'parquet', path: out, rowGroupSize: GROUP, compression: 'snappy' } };
    const resolved = checkConfig(config, '', dir);
    const plan = buildPlan(resolved.config, resolved);
    expect(plan.direct !== undefined).toBe(direct);
    await runPlan(plan, { log: quiet });
    const bytes = readFileSync(out);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const meta = parquetMetadata(file);
    const full = Math.floor(TOTAL / GROUP);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([...Array(full).fill(GROUP), ...(TOTAL % GROUP ? [TOTAL % GROUP] : [])]);
    const rows = await parquetReadObjects({ file, metadata: meta });
    expect(rows.map((r) => Number(r.id))).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
    expect(rows.every((r) => r.name === `n${r.id}`)).toBe(true);
  });
});

it('a bad value in a small file joined into a row group fails the plain conversion naming its file and line', async () => {
  const d = path.join(dir, 'bad');
  mkdirSync(d);
  for (let f = 0; f < 20; f++) writeFileSync(path.join(d, `f${String(f).padStart(2, '0')}.csv`), `id,v\n${f},1\n${f},${f === 12 ? 'x' : '2'}\n`);
  const config: PipelineConfig = { name: 'bad', source: { format: 'csv', path: 'bad/*.csv', inferRows: 2 }, stages: [], sink: { format: 'parquet', path: path.join(dir, 'bad.parquet'), rowGroupSize: GROUP } };
  const resolved = checkConfig(config, '', dir);
  const plan = buildPlan(resolved.config, resolved);
  expect(plan.direct).toBeDefined();
  await expect(runPlan(plan, { log: quiet })).rejects.toThrow(/f12\.csv, line 3/);
});
