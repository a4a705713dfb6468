/**
 * Units that are ranges of a Parquet file's row groups (io/units/ranges.ts), without a run: a
 * file of 5 row groups (written by DuckDB) is cut by its footer into ranges of about `unitRows`
 * rows of whole groups, each knowing the file's rows before it; a file within `unitRows`, and
 * every CSV file, is one unit. The source reads exactly a range's rows, each item carrying the
 * range's key (which names the file); a range the file no longer has is refused, naming the
 * file. The run maps a batch to its range by the batch number the range began at.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { fileOfUnitKey, unitKey } from '../../../../src/batch/unit-tag';
import { openSource } from '../../../../src/io/sources';
import { cutUnits } from '../../../../src/io/units/ranges';
import { UnitRun } from '../../../../src/io/units/units';
import { readManifest } from '../../../../src/io/units/manifest';
import { duckRows } from '../../../helpers/duckdb';
import { workspace } from '../../../helpers/workspace';

const ws = workspace('sluice-ranges-');
afterAll(() => ws.cleanup());

const GROUP = 2048;
const file = path.join(ws.dir, 'big.parquet');
const csv = path.join(ws.dir, 'small.csv');

beforeAll(async () => {
  await duckRows(`copy (select i::bigint as id from range(${5 * GROUP}) t(i)) to '${file}' (format parquet, row_group_size ${GROUP})`);
  writeFileSync(csv, 'id\n1\n');
});

describe('row-group ranges', () => {
  it('cuts a Parquet file by its footer into ranges of whole row groups; a small file and a CSV file are whole units', async () => {
    expect(await cutUnits([file], 'parquet', 2 * GROUP)).toEqual([
      { file, groups: [0, 1], firstRow: 0 },
      { file, groups: [2, 3], firstRow: 2 * GROUP },
      { file, groups: [4, 4], firstRow: 4 * GROUP },
    ]);
    expect(await cutUnits([file], 'parquet', 3 * GROUP - 1)).toEqual([
      { file, groups: [0, 2], firstRow: 0 },
      { file, groups: [3, 4], firstRow: 3 * GROUP },
    ]);
    expect(await cutUnits([file], 'parquet')).toEqual([{ file }]);
    expect(await cutUnits([file], 'parquet', 5 * GROUP)).toEqual([{ file }]);
    expect(await cutUnits([csv], 'csv', 1)).toEqual([{ file: csv }]);
  });

  it('the source reads a range\'s rows only, each item carrying the range\'s key; a range the file does not have is refused', async () => {
    const range = { file, groups: [2, 3] as [number, number], firstRow: 2 * GROUP };
    const src = await openSource({ format: 'parquet', path: file, batchRows: 1000, only: [file], units: [range] });
    const ids: number[] = [];
    const keys = new Set<string | undefined>();
    for await (const item of src.batches()) {
      keys.add(item.sourceFile);
      for (const v of item.batch.getChild('id')!.toArray() as BigInt64Array) ids.push(Number(v));
      item.release();
    }
    expect([...keys]).toEqual([unitKey(range)]);
    expect(fileOfUnitKey(unitKey(range))).toBe(file);
    expect(ids).toEqual(Array.from({ length: 2 * GROUP }, (_, i) => 2 * GROUP + i));
    const gone = await openSource({ format: 'parquet', path: file, batchRows: 1000, only: [file], units: [{ file, groups: [4, 5] }] });
    await expect(gone.batches().next()).rejects.toThrow(/has 5 row groups, not the 6 the run's unit \(row groups 4–5\) was cut from: the file changed; run with --restart/);
  });

  it('a batch goes to the range its source item was read from; the manifest keys units by file and row groups', async () => {
    const dir = path.join(ws.dir, 'run');
    mkdirSync(dir);
    const units = await cutUnits([file], 'parquet', 2 * GROUP);
    const run = UnitRun.open({ targets: [path.join(dir, 'out.csv')], files: [file], units, fingerprint: { config: 'c', stages: {} }, mode: 'fresh' });
    const batch = (x: number) => tableFromArrays({ x: Float64Array.of(x) }).batches[0];
    // Items 0–4 read range 0, 5–9 range 1, 10–12 range 2 (as the source adapter tells the run).
    for (const [seq, u] of [[0, 0], [5, 1], [10, 2]]) run.noteItem(unitKey(units[u]), seq);
    for (const seq of [0, 4, 5, 9, 10, 12]) run.write(0, batch(seq), file, seq);
    await run.finishUnits();
    const lines = [...readManifest(run.manifestFile).units.values()];
    expect(lines.map((l) => [l.unit, l.file, l.groups, l.sinks[0]?.rows])).toEqual([
      [0, file, [0, 1], 2],
      [1, file, [2, 3], 2],
      [2, file, [4, 4], 2],
    ]);
    expect(run.report().read).toEqual([`${file} (row groups 0–1)`, `${file} (row groups 2–3)`, `${file} (row groups 4–4)`]);
  });
});
