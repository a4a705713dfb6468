/**
 * A failed run leaves nothing at the sink's path, the folders it created above the target
 * included (`out/run_date=…/` of a run that wrote nothing), but never a folder that existed
 * before the run (io/sinks/parents.ts). Every kind of sink: one file, and a partitioned one.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { openSink } from '../../../../src/io/sinks';
import type { SinkConfig } from '../../../../src/config/types';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-parents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const batch = tableFromArrays({ id: Int32Array.from([1, 2, 3]), g: Int32Array.from([1, 1, 2]) }).batches[0];

const SINKS: { name: string; cfg: (target: string) => SinkConfig }[] = [
  { name: 'CSV file', cfg: (t) => ({ format: 'csv', path: `${t}.csv` }) },
  { name: 'Arrow file', cfg: (t) => ({ format: 'arrow', path: `${t}.arrow` }) },
  { name: 'partitioned Parquet', cfg: (t) => ({ format: 'parquet', path: t, partitionBy: ['g'] }) },
];

describe.each(SINKS)('a $name sink', ({ name, cfg }) => {
  const slug = name.replace(/ /g, '-');

  it('removes the folders it created above the target when the run fails', async () => {
    const top = path.join(dir, `new-${slug}`);
    const sink = await openSink(cfg(path.join(top, 'run_date=2026-12-06', 'data')));
    await sink.write(batch, { seq: 0 });
    await sink.abort();
    expect(existsSync(top)).toBe(false);
  });

  it('keeps a folder that existed before the run, and one something else wrote into', async () => {
    const kept = path.join(dir, `kept-${slug}`);
    mkdirSync(kept);
    const sink = await openSink(cfg(path.join(kept, 'run_date=2026-12-06', 'data')));
    await sink.write(batch, { seq: 0 });
    const other = path.join(kept, 'other=1');
    mkdirSync(other);
    writeFileSync(path.join(other, 'x.csv'), 'a\n');
    await sink.abort();
    expect(existsSync(path.join(kept, 'run_date=2026-12-06'))).toBe(false);
    expect(existsSync(path.join(other, 'x.csv'))).toBe(true);
  });

  it('keeps them when the run commits', async () => {
    const top = path.join(dir, `ok-${slug}`);
    const target = cfg(path.join(top, 'run_date=2026-12-06', 'data'));
    const sink = await openSink(target);
    await sink.write(batch, { seq: 0 });
    await sink.commit();
    expect(existsSync(target.path)).toBe(true);
  });
});
