/**
 * A chain of polars stages fused into one (adjacent inline stages on the main thread, adjacent
 * thread stages in one worker: plan/fuse.ts) hands each DataFrame to the next member as it is
 * (batch/frame-handoff.ts), and the output is DuckDB's answer from the input files, on every sink.
 * The chains: `double → join → triple` (every frame handed on), and `categorical → join` (a
 * Categorical `origin` is not handed on: the join gets a String, as unfused; handed on, the join
 * would fail "datatypes of join keys don't match").
 *
 * The matrix (pairwise, 4 CLI runs rather than 16): mode {inline, thread} × chain {handed, categorical}
 * × sink {parquet, arrow, csv, ndjson}: every sink once, every mode × chain pair once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pl from 'nodejs-polars';
import { runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

const ROWS = 1500;
const CODES = ['AAA', 'BBB', 'CCC', 'ZZZ'];

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-polars-handoff-');
  writeFileSync(path.join(ws.dir, 'in.csv'), 'id,origin,delay\n' + Array.from({ length: ROWS }, (_, i) => `${i},${i % 11 === 0 ? '' : CODES[(i * 5) % 4]},${(i % 17) - 3}.5`).join('\n') + '\n');
  writeFileSync(path.join(ws.dir, 'airports.csv'), 'origin,state\nAAA,CA\nBBB,NY\nCCC,TX\n');
});
afterAll(() => ws.cleanup());

const cells = [
  { mode: 'inline', chain: 'handed', sink: 'parquet' },
  { mode: 'inline', chain: 'categorical', sink: 'arrow' },
  { mode: 'thread', chain: 'handed', sink: 'csv' },
  { mode: 'thread', chain: 'categorical', sink: 'ndjson' },
] as const;

function stages(mode: string, chain: string): object[] {
  const copies = mode === 'inline' ? 1 : 2;
  const step = (name: string, options: object) => ({ name, module: path.join(FIXTURE_STAGES, 'polars-step.ts'), mode, concurrency: copies, options });
  const join = { name: 'join', module: path.join(FIXTURE_STAGES, 'polars-join.ts'), mode, concurrency: copies, options: { airports: path.join(ws.dir, 'airports.csv') } };
  return chain === 'handed' ? [step('double', { from: 'delay', to: 'y' }), join, step('triple', { from: 'y', to: 'z', times: 3 })] : [step('categorical', { from: 'delay', to: 'y', categorical: 'origin' }), join];
}

async function expected(chain: string): Promise<Record<string, unknown>[]> {
  const z = chain === 'handed' ? ', f.delay * 2 * 3 AS z' : '';
  return duckRows(
    `SELECT f.id::INTEGER AS id, f.origin, f.delay::DOUBLE AS delay, (f.delay * 2)::DOUBLE AS y, a.state, (f.origin = 'AAA') AS is_aaa${z} FROM read_csv('${ws.dir}/in.csv', types = {'origin': 'VARCHAR'}) f LEFT JOIN read_csv('${ws.dir}/airports.csv') a USING (origin) ORDER BY f.id`,
  );
}

/** The sink's output as rows, read by DuckDB (Arrow: by polars). */
async function output(file: string, sink: string, chain: string): Promise<Record<string, unknown>[]> {
  const rows = sink === 'arrow' ? (pl.readIPC(readFileSync(file)).toRecords() as Record<string, unknown>[]) : await duckRows(`SELECT * FROM ${{ parquet: 'read_parquet', csv: 'read_csv', ndjson: 'read_json' }[sink]}('${file}')`);
  return rows.map((r) => ({
    id: Number(r.id),
    origin: r.origin ?? null,
    delay: Number(r.delay),
    y: Number(r.y),
    state: r.state ?? null,
    is_aaa: r.is_aaa ?? null,
    ...(chain === 'handed' && { z: Number(r.z) }),
  }));
}

it.each(cells)('$mode chain $chain to $sink: fused, DuckDB\'s answer', async ({ mode, chain, sink }) => {
  const name = `${mode}-${chain}`;
  const cfg = ws.config({ name, source: { format: 'csv', path: 'in.csv', batchRows: 200 }, stages: stages(mode, chain), sink: { format: sink, path: `out/${name}.${sink}` } }, `${name}.config.ts`);
  const reportFile = path.join(ws.dir, `${name}.report.json`);
  const r = await runCli(['run', cfg, '--quiet', '--log-level', 'error', '--report', reportFile]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { stages: { name: string }[] };
  expect(report.stages[0].name).toBe(chain === 'handed' ? 'double+join+triple' : 'categorical+join');
  const want = (await expected(chain)).map((r) => ({ ...r, id: Number(r.id), delay: Number(r.delay), y: Number(r.y), ...(chain === 'handed' && { z: Number(r.z) }), state: r.state ?? null, origin: r.origin ?? null }));
  expect(await output(path.join(ws.dir, 'out', `${name}.${sink}`), sink, chain)).toEqual(want);
});
