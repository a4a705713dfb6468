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

it('a folder another run made and removed (it failed) while this one opened its sink in it is made again', async () => {
  // The other run's removal lands between this run finding the folder there and its lock
  // landing in it (the one moment the folder is empty and not this run's): seen as a run
  // failing to open its lock with ENOENT beside another run that failed in the same folder.
  const top = path.join(dir, 'shared');
  mkdirSync(top); // made by the other run: not this one's to remove
  const fs = jest.requireActual('node:fs') as typeof import('node:fs');
  const real = fs.writeFileSync;
  let removed = 0;
  const spy = jest.spyOn(fs, 'writeFileSync').mockImplementation((file, ...rest) => {
    if (removed === 0 && String(file).includes('.sluice-lock-')) {
      removed++;
      fs.rmdirSync(top); // the other run's clean-up, at the worst moment
    }
    return real(file, ...(rest as [string]));
  });
  try {
    const sink = await openSink({ format: 'csv', path: path.join(top, 'data.csv') });
    expect(removed).toBe(1);
    await sink.write(batch, { seq: 0 });
    await sink.commit();
    expect(existsSync(path.join(top, 'data.csv'))).toBe(true);
  } finally {
    spy.mockRestore();
  }
});
