/**
 * `source.onError` for CSV: bad values (in the first chunk and in a later one, found by polars
 * and by the strict later-chunk checks), ragged rows (one the last), lines of invalid UTF-8 (one
 * in the first chunk, where the types are inferred: polars refuses such a chunk whole, which
 * once failed the run) and a row over `maxRowBytes` (raw: its first 1024 bytes), in known places. With
 * `dead-letter` exactly those rows reach the dead-letter output (read back by DuckDB) with
 * file, line, column, reason, raw text and the values that did parse; the output holds exactly
 * the rest; rows read = rows written + rows rejected. On the main thread and on the source
 * thread (where the parse runs, the split is done). `skip` drops the same rows and counts them.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../src/config';
import type { PipelineConfig } from '../../src/config/types';
import { buildPlan } from '../../src/plan/build';
import { runPlan } from '../../src/runtime/run';
import type { RunReport } from '../../src/runtime/types';
import { duckRows } from '../helpers/duckdb';
import { workspace, type Workspace } from '../helpers/workspace';

const ROWS = 3000;
const log = pino({ level: 'silent' });
/** Data row i is on physical line i + 2 (the header is line 1). */
const BAD: Record<number, { text: (i: number) => Buffer; column?: string; reason: RegExp }> = {
  10: { text: (i) => Buffer.concat([Buffer.from(`${i},x`), Buffer.from([0xff]), Buffer.from(`y,0.5,d`)]), column: 'name', reason: /^invalid UTF-8 at byte 5 of the row;/ },
  40: { text: (i) => Buffer.from(`abc,n${i},1.5,d`), column: 'id', reason: /int64|integer|abc/ },
  1700: { text: (i) => Buffer.from(`${i},n${i},1.2.3,d`), column: 'x', reason: /float64|1\.2\.3/ },
  900: { text: (i) => Buffer.from(`${i},n${i},1.5`), reason: /expected 4 fields, found 3 \(ragged row\)/ },
  1200: { text: (i) => Buffer.from(`${i},n${i},1.5,${'d'.repeat(2000)}`), reason: /^row longer than 256 bytes \(source\.maxRowBytes\); raw holds its first 1024 bytes only$/ },
  2500: { text: (i) => Buffer.concat([Buffer.from(`${i},n`), Buffer.from([0xff, 0xfe]), Buffer.from(`,0.5,d`)]), column: 'name', reason: /^invalid UTF-8 at byte 7 of the row;/ },
  2999: { text: (i) => Buffer.from(`${i},n${i},1.5,d,extra`), reason: /expected 4 fields, found 5 \(ragged row\)/ },
};

let ws: Workspace;
let input: string;
beforeAll(() => {
  ws = workspace('sluice-dead-source-');
  input = path.join(ws.dir, 'in.csv');
  const lines: Buffer[] = [Buffer.from('id,name,x,day')];
  for (let i = 0; i < ROWS; i++) lines.push(BAD[i]?.text(i) ?? Buffer.from(`${i},n${i},${i}.5,d${i % 7}`));
  writeFileSync(input, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
});
afterAll(() => ws.cleanup());

function config(out: string, thread: boolean, onError: 'skip' | 'dead-letter'): PipelineConfig {
  return {
    name: 'dead-source',
    source: { format: 'csv', path: 'in.csv', batchRows: 500, inferRows: 500, maxRowBytes: 256, schema: { id: 'int64', name: 'utf8', x: 'float64', day: 'utf8' }, thread, onError },
    stages: [],
    sink: { format: 'parquet', path: path.join(out, 'clean.parquet') },
    ...(onError === 'dead-letter' && { deadLetter: { format: 'ndjson', path: path.join(out, 'rejects.ndjson') } }),
  };
}

async function run(cfg: PipelineConfig): Promise<RunReport> {
  const checked = checkConfig(cfg, '', ws.dir);
  return runPlan(buildPlan(checked.config, checked), { log });
}

const badIds = Object.keys(BAD).map(Number);
const BAD_ROWS = badIds.length;

describe.each([false, true])('source.thread %p', (thread) => {
  it('dead-letters exactly the bad rows; the output holds exactly the rest', async () => {
    const out = path.join(ws.dir, `dead-${thread}`);
    const report = await run(config(out, thread, 'dead-letter'));
    const ids = (await duckRows(`SELECT id FROM read_parquet('${out}/clean.parquet')`)).map((r) => Number(r.id));
    expect(ids).toEqual(Array.from({ length: ROWS }, (_, i) => i).filter((i) => !badIds.includes(i)));
    const rejects = await duckRows(`SELECT origin, file, line, "column", reason, raw, values FROM read_json('${out}/rejects.ndjson', columns = {origin: 'VARCHAR', file: 'VARCHAR', line: 'BIGINT', "column": 'VARCHAR', reason: 'VARCHAR', raw: 'VARCHAR', values: 'VARCHAR'}) ORDER BY line`);
    expect(rejects.map((r) => [r.origin, r.file, Number(r.line), r.column])).toEqual(badIds.map((i) => ['source', input, i + 2, BAD[i].column ?? null]));
    rejects.forEach((r, k) => expect(String(r.reason)).toMatch(BAD[badIds[k]].reason));
    // The raw text of the line, and the values that did parse (the refused column left out).
    expect(rejects[1].raw).toBe('abc,n40,1.5,d');
    expect(JSON.parse(String(rejects[1].values))).toEqual({ name: 'n40', x: 1.5, day: 'd' });
    expect(JSON.parse(String(rejects[4].values))).toEqual({ id: 1700, name: 'n1700', day: 'd' });
    // A ragged row: no column says which value went where, so none counts as parsed.
    expect(JSON.parse(String(rejects[2].values))).toEqual({});
    // Invalid UTF-8: the text with U+FFFD for the bad byte, the other columns' values.
    expect(rejects[0].raw).toBe('10,x\ufffdy,0.5,d');
    expect(JSON.parse(String(rejects[0].values))).toEqual({ id: 10, x: 0.5, day: 'd' });
    expect(JSON.parse(String(rejects[5].values))).toEqual({ id: 2500, x: 0.5, day: 'd' });
    expect(report.rejected).toMatchObject({ rows: BAD_ROWS });
    expect(report.rejected!.counts.every((c) => c.place === 'source' && c.action === 'dead-letter')).toBe(true);
    // The over-long row: its first 1024 bytes, nothing parsed.
    expect(rejects[3].raw).toBe(BAD[1200].text(1200).toString().slice(0, 1024));
    expect(JSON.parse(String(rejects[3].values))).toEqual({});
    // rows read (the source's rows passed on + the rows it took out) = written + rejected
    expect(report.source.rows + report.rejected!.rows).toBe(ROWS);
    expect(report.source.rowsRead).toBe(ROWS);
    expect(report.sink.rows).toBe(ROWS - BAD_ROWS);
    expect(rejects[2].raw).toBe('900,n900,1.5');
  }, 60_000);
});

it('skip drops the same rows and counts them; no dead-letter output', async () => {
  const out = path.join(ws.dir, 'skip');
  const report = await run(config(out, false, 'skip'));
  const ids = (await duckRows(`SELECT id FROM read_parquet('${out}/clean.parquet')`)).map((r) => Number(r.id));
  expect(ids).toEqual(Array.from({ length: ROWS }, (_, i) => i).filter((i) => !badIds.includes(i)));
  expect(readdirSync(out)).toEqual(['clean.parquet']);
  expect(report.rejected).toMatchObject({ rows: BAD_ROWS });
});

it('without onError a bad row still fails the run, naming its line (the default is unchanged)', async () => {
  const cfg = config(path.join(ws.dir, 'fail'), false, 'skip');
  delete cfg.source.onError;
  await expect(run(cfg)).rejects.toThrow(/in\.csv, line 902: expected 4 fields, found 3 \(ragged row\)/);
});
