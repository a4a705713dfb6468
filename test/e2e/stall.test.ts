/**
 * An inline stage whose promise never settles ends the run the same way whatever the sink
 * (CSV, NDJSON, Arrow, Parquet single file and partitioned) and whatever runs beside it (a
 * thread or process stage after it): exit 1 naming the stage and batch, nothing left. The
 * detection is Node running out of work; no thread or child of the engine may keep the
 * process alive while it owes the run nothing (a Parquet encoder thread did: a hang).
 */
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 1000);
});
afterAll(() => ws.cleanup());

const STALLED = /the run cannot finish: nothing is left to wait on, but stage "stuck" \(inline\) on batch #3 never settled/;
const hang = { name: 'stuck', module: path.join(FIXTURE_STAGES, 'guard-fail.ts'), mode: 'inline', options: { at: 3, how: 'hang' } };
const after = (mode: string) => ({ name: `then-${mode}`, module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode });

describe.each([
  ['csv', {}, []],
  ['ndjson', {}, []],
  ['arrow', {}, []],
  ['parquet', {}, []],
  ['parquet', { partitionBy: ['day'] }, []],
  ['csv', {}, [after('thread')]],
  ['csv', {}, [after('process')]],
  ['parquet', {}, [after('thread')]],
])('sink %s %j, then %j', (format, extra, more) => {
  it('exits 1 naming the stage and batch, with nothing written', async () => {
    const name = `stall-${format}-${Object.keys(extra).join('')}-${(more as { mode: string }[]).map((s) => s.mode).join('')}`;
    const cfg = ws.config(
      {
        name,
        source: { format: 'csv', path: 'in.csv', batchRows: 100 },
        stages: [hang, ...(more as object[])],
        sink: { format, path: `out/${name}${'partitionBy' in extra ? '' : `.${format}`}`, ...extra },
      },
      `${name}.config.ts`,
    );
    const r = await runCli(['run', cfg, '--quiet'], { timeoutMs: 30_000 });
    expect(r.signal).toBeNull();
    expect(r.stderr).toMatch(STALLED);
    expect(r.code).toBe(1);
    expect(ws.outFiles().filter((f) => f.includes(name))).toEqual([]);
  });
});
