/**
 * A stage's output built the obvious way, `tableFromArrays` of strings, carries a dictionary of
 * its own in every batch; an Arrow IPC file holds one dictionary per field. Through the real CLI
 * in every mode, many batches to an Arrow sink: the file opens in polars (a decoder of its own)
 * and in apache-arrow, with every value as the source had it, in order, the column as its
 * values' type (src/io/sinks/writers/dictionaries.ts). Before, the run exited 0 and wrote a file
 * neither opened.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

const ROWS = 1200;
// Values that differ from batch to batch (so does each batch's dictionary), repeats, nulls, non-ASCII.
const value = (i: number) => (i % 11 === 0 ? null : `v${Math.floor(i / 100)}-${i % 7}${i % 5 === 0 ? 'é' : ''}`);

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-arrow-dict-');
  writeFileSync(path.join(ws.dir, 'in.csv'), 's\n' + Array.from({ length: ROWS }, (_, i) => value(i) ?? '').join('\n') + '\n');
});
afterAll(() => ws.cleanup());

it.each(['inline', 'thread', 'process'])('%s: one file every reader opens, the values as written', async (mode) => {
  const cfg = ws.config(
    {
      name: `dict-${mode}`,
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [{ name: 'probe', module: path.join(FIXTURE_STAGES, 'from-array-probe.ts'), mode, concurrency: mode === 'inline' ? 1 : 2 }],
      sink: { format: 'arrow', path: `out/${mode}.arrow` },
    },
    `dict-${mode}.config.ts`,
  );
  const r = await runCli(['run', cfg, '--quiet', '--log-level', 'error']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const bytes = readFileSync(path.join(ws.dir, 'out', `${mode}.arrow`));
  const expected = Array.from({ length: ROWS }, (_, i) => value(i));
  // The stage built dictionaries (its `type` column says so), one per batch.
  const df = pl.readIPC(bytes);
  expect(df.getColumn('type').unique().toArray()).toEqual(['Dictionary<Int32, Utf8>']);
  expect(df.getColumn('s').toArray()).toEqual(expected);
  expect(String(df.getColumn('s').dtype)).toBe('DataType(String)');
  const table = tableFromIPC(bytes);
  expect(table.batches.length).toBeGreaterThan(1);
  expect(String(table.schema.fields.find((f) => f.name === 's')!.type)).toBe('Utf8');
  expect(table.getChild('s')!.toArray()).toEqual(expected);
});
