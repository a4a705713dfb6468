/**
 * `source.onError` for NDJSON: a line that is not JSON, not an object, invalid UTF-8, a value its
 * column's type does not hold (in a later batch, found by the strict checks), a field the fixed
 * schema lacks, and a line over `maxRowBytes`, in known places. With `dead-letter` exactly those
 * lines reach the dead-letter output (read back by DuckDB) with file, line, column, reason, raw
 * text (an over-long line's first 1024 bytes, as its reason says) and the values that did parse;
 * the output holds exactly the rest (read by DuckDB); rows read = rows written + rows rejected.
 * On the main thread and on the source thread. `skip` drops the same lines and counts them;
 * without onError the first bad line fails the run naming its file and line.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import type { PipelineConfig } from '../../src/config/types';
import { buildPlan } from '../../src/plan/build';
import { runPlan } from '../../src/runtime/run';
import type { RunReport } from '../../src/runtime/types';
import { duckRows } from '../helpers/duckdb';
import { workspace, type Workspace } from '../helpers/workspace';

const ROWS = 1000;
const log = pino({ level: 'silent' });
const good = (i: number) => Buffer.from(JSON.stringify({ id: i, name: `n${i}`, x: i + 0.5 }));
/** Record i is on line i + 1. */
const BAD: Record<number, { text: Buffer; column?: string; reason: RegExp; values: Record<string, unknown> }> = {
  40: { text: Buffer.from('{"id": 40, "name": "n40", "x": '), reason: /^not valid JSON/, values: {} },
  250: { text: Buffer.from('["n250", 250]'), reason: /^is a JSON array, not an object: NDJSON has one object per line/, values: {} },
  420: { text: Buffer.concat([Buffer.from('{"id": 420, "name": "n'), Buffer.from([0xc3, 0x28]), Buffer.from('", "x": 420.5}')]), reason: /^not valid UTF-8/, values: { id: 420, x: 420.5 } },
  555: { text: Buffer.from('{"id": 555, "name": "n555", "x": true}'), column: 'x', reason: /value true is a boolean/, values: { id: 555, name: 'n555' } },
  700: { text: Buffer.from('{"id": 700, "name": "n700", "x": 700.5, "note": "new"}'), reason: /field "note" is not in the schema fixed by the first batch/, values: { id: 700, name: 'n700', x: 700.5, note: 'new' } },
  880: { text: Buffer.from(`{"id": 880, "name": "${'z'.repeat(3000)}", "x": 880.5}`), reason: /^line longer than 256 bytes \(source\.maxRowBytes\); raw holds its first 1024 bytes only$/, values: {} },
  999: { text: Buffer.from('"just text"'), reason: /^is a JSON string, not an object/, values: {} },
};
const badIds = Object.keys(BAD).map(Number);

let ws: Workspace;
let input: string;
beforeAll(() => {
  ws = workspace('sluice-dead-ndjson-');
  input = path.join(ws.dir, 'in.ndjson');
  const lines = Array.from({ length: ROWS }, (_, i) => BAD[i]?.text ?? good(i));
  writeFileSync(input, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
});
afterAll(() => ws.cleanup());

function config(out: string, thread: boolean, onError?: 'skip' | 'dead-letter'): PipelineConfig {
  return {
    name: 'dead-ndjson',
    source: { format: 'ndjson', path: 'in.ndjson', batchRows: 200, maxRowBytes: 256, thread, ...(onError && { onError }) },
    stages: [],
    sink: { format: 'parquet', path: path.join(out, 'clean.parquet') },
    ...(onError === 'dead-letter' && { deadLetter: { format: 'ndjson', path: path.join(out, 'rejects.ndjson') } }),
  } as PipelineConfig;
}

async function run(cfg: PipelineConfig): Promise<RunReport> {
  const checked = checkConfig(cfg, '', ws.dir);
  return runPlan(buildPlan(checked.config, checked), { log });
}

const rest = Array.from({ length: ROWS }, (_, i) => i).filter((i) => !badIds.includes(i));

describe.each([false, true])('source.thread %p', (thread) => {
  it('dead-letters exactly the bad lines; the output holds exactly the rest', async () => {
    const out = path.join(ws.dir, `dead-${thread}`);
    const report = await run(config(out, thread, 'dead-letter'));
    const ids = (await duckRows(`SELECT id FROM read_parquet('${out}/clean.parquet')`)).map((r) => Number(r.id));
    expect(ids).toEqual(rest);
    const rejects = await duckRows(`SELECT origin, file, line, "column", reason, raw, values FROM read_json('${out}/rejects.ndjson', columns = {origin: 'VARCHAR', file: 'VARCHAR', line: 'BIGINT', "column": 'VARCHAR', reason: 'VARCHAR', raw: 'VARCHAR', values: 'VARCHAR'}) ORDER BY line`);
    expect(rejects.map((r) => [r.origin, r.file, Number(r.line), r.column])).toEqual(badIds.map((i) => ['source', input, i + 1, BAD[i].column ?? null]));
    rejects.forEach((r, k) => {
      const want = BAD[badIds[k]];
      expect(String(r.reason)).toMatch(want.reason);
      expect(JSON.parse(String(r.values))).toEqual(want.values);
      expect(r.raw).toBe(want.text.toString('utf8').slice(0, 1024));
    });
    expect(report.rejected).toMatchObject({ rows: badIds.length });
    expect(report.rejected!.counts.every((c) => c.place === 'source' && c.action === 'dead-letter')).toBe(true);
    // rows read (the source's rows passed on + the lines it took out) = written + rejected
    expect(report.source.rows + report.rejected!.rows).toBe(ROWS);
    expect(report.sink.rows).toBe(ROWS - badIds.length);
  }, 60_000);
});

it('skip drops the same lines and counts them; no dead-letter output', async () => {
  const out = path.join(ws.dir, 'skip');
  const report = await run(config(out, false, 'skip'));
  const ids = (await duckRows(`SELECT id FROM read_parquet('${out}/clean.parquet')`)).map((r) => Number(r.id));
  expect(ids).toEqual(rest);
  expect(readdirSync(out)).toEqual(['clean.parquet']);
  expect(report.rejected).toMatchObject({ rows: badIds.length });
});

it('without onError the first bad line fails the run, naming file and line; nothing written', async () => {
  const out = path.join(ws.dir, 'fail');
  await expect(run(config(out, false))).rejects.toThrow(/in\.ndjson, line 41: not valid JSON/);
  expect(existsSync(path.join(out, 'clean.parquet'))).toBe(false);
});

it('without onError an over-long line fails the run, naming file and line', async () => {
  const f = path.join(ws.dir, 'long.ndjson');
  writeFileSync(f, Buffer.concat([good(0), Buffer.from('\n'), BAD[880].text, Buffer.from('\n'), good(2), Buffer.from('\n')]));
  const cfg = config(path.join(ws.dir, 'long-fail'), false);
  cfg.source.path = 'long.ndjson';
  await expect(run(cfg)).rejects.toThrow(/long\.ndjson, line 2: line longer than 256 bytes \(source\.maxRowBytes\)/);
});
