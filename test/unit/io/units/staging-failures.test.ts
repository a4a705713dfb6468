/**
 * A resumable run's staging is loud (io/units/failures.ts): every file operation of the
 * protocol that fails — creating a unit's staged file, writing its batches, its fsync, its
 * rename, its folder's fsync, the manifest's lines (the run's first, the column types, a unit's,
 * the commit's), reading a unit back at the job commit, removing the staging — fails with a
 * SinkError that names the sink and its target, the unit (from 1) and its input file, the file
 * sluice was at, what the OS said and what to do (`where` holds the same), never with the OS's
 * bare words; and a unit whose files failed is never recorded in the manifest. The OS errors
 * are injected into node:fs in this process (the run is root here: a read-only folder would not
 * stop it), one operation at a time.
 */
import fs, { existsSync, mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { SinkError } from '../../../../src/errors';
import { readManifest } from '../../../../src/io/units/manifest';
import { UnitRun, stagingDirOf } from '../../../../src/io/units/units';
import { workspace } from '../../../helpers/workspace';

const ws = workspace('sluice-staging-failures-');
// The faults are injected into this process's node:fs: the staged files are written on this
// thread (the staging thread's own writes are failed for real in staging-thread-failure.test.ts).
const stagingThread = process.env.SLUICE_STAGING_THREAD;
beforeAll(() => (process.env.SLUICE_STAGING_THREAD = '0'));
afterAll(() => (stagingThread === undefined ? delete process.env.SLUICE_STAGING_THREAD : (process.env.SLUICE_STAGING_THREAD = stagingThread)));
afterAll(() => ws.cleanup());
afterEach(() => {
  jest.restoreAllMocks();
  delete process.env.SLUICE_STAGING_DIRECT;
});

let n = 0;
function fixture(): { inputs: string[]; targets: string[] } {
  const dir = path.join(ws.dir, `case-${n++}`);
  mkdirSync(dir);
  const inputs = [0, 1, 2].map((i) => {
    const f = path.join(dir, `in${i}.csv`);
    writeFileSync(f, `x\n${i}\n`);
    return f;
  });
  return { inputs, targets: [path.join(dir, 'a.csv'), path.join(dir, 'b.csv')] };
}

const batch = (x: number) => tableFromArrays({ x: Float64Array.of(x) }).batches[0];
const open = (f: ReturnType<typeof fixture>, mode: 'fresh' | 'resume' = 'fresh') => UnitRun.open({ targets: f.targets, files: f.inputs, fingerprint: { config: 'c', stages: {} }, mode, names: ['first', 'second'] });
const osError = (code: string, syscall: string) => Object.assign(new Error(`${code}: injected, ${syscall}`), { code, syscall, errno: -1 });

/** The error `act` ends with (thrown or rejected). */
async function failureOf(act: () => unknown): Promise<unknown> {
  try {
    await act();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure, and there was none');
}

/** A SinkError naming unit `unit` (from 1) of sink "second", the file it was at, the OS's code and advice, and what to do. */
function expectLoud(err: unknown, f: ReturnType<typeof fixture>, action: RegExp, unit: number | undefined, code: string, advice: RegExp, sink = 'second'): void {
  expect(err).toBeInstanceOf(SinkError);
  const e = err as SinkError;
  const k = sink === 'first' ? 0 : 1;
  expect(e.message).toMatch(action);
  if (unit !== undefined) expect(e.message).toContain(`of unit ${unit} (${f.inputs[unit - 1]}) for sink "${sink}" (${f.targets[k]})`);
  expect(e.message).toContain(`: ${code} (`);
  expect(e.message).toMatch(advice);
  expect(e.where).toMatchObject({ sink, path: f.targets[k], ...(unit !== undefined && { unit, file: f.inputs[unit - 1] }) });
  expect(typeof e.where?.staged).toBe('string');
  expect(e.message).toContain(e.where!.staged!);
}

/** Writes units 1 and 2 of both sinks, and passes into unit 3 on sink 0: unit 2 of sink 1 is finished when sink 1 passes into 3. */
function writeTwoUnits(run: UnitRun, f: ReturnType<typeof fixture>): Promise<void>[] {
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 2; i++) for (const k of [0, 1]) writes.push(run.write(k, batch(10 * k + i), f.inputs[i])!);
  writes.push(run.write(0, batch(2), f.inputs[2])!);
  return writes;
}

describe('staging failures are SinkErrors that name the sink, the unit and the file; the unit is never recorded', () => {
  it('creating a unit\'s staged file (EACCES)', async () => {
    const f = fixture();
    const run = open(f);
    const openSync = fs.openSync;
    jest.spyOn(fs, 'openSync').mockImplementation((file, ...rest) => {
      if (String(file).includes(`${path.sep}_temporary${path.sep}`) && String(file).includes('b.csv')) throw osError('EACCES', 'open');
      return openSync(file, ...(rest as [fs.OpenMode]));
    });
    run.write(0, batch(0), f.inputs[0]);
    const err = await failureOf(() => run.write(1, batch(0), f.inputs[0]));
    expectLoud(err, f, /^cannot create the staged file of unit 1/, 1, 'EACCES', /permission denied/);
    await run.abort();
    expect(readManifest(run.manifestFile).units.size).toBe(0);
  });

  it('writing a unit\'s batches through the page cache (ENOSPC; SLUICE_STAGING_DIRECT=0): the write, the next check and the end of the units all fail with it', async () => {
    const f = fixture();
    process.env.SLUICE_STAGING_DIRECT = '0';
    const run = open(f);
    const writev = fs.writev;
    let calls = 0;
    // The third frame written is sink 1's of unit 1 (0: sink 0 unit 1, 1: sink 1 unit 1 … in write order).
    jest.spyOn(fs, 'writev').mockImplementation(((fd: number, chunks: NodeJS.ArrayBufferView[], cb: (err: NodeJS.ErrnoException | null, n: number) => void) => {
      if (calls++ === 1) return process.nextTick(() => cb(osError('ENOSPC', 'write'), 0));
      return writev(fd, chunks, cb);
    }) as typeof fs.writev);
    const writes = writeTwoUnits(run, f);
    const err = await failureOf(() => writes[1]);
    expectLoud(err, f, /^cannot write the staged batches of unit 1/, 1, 'ENOSPC', /the disk is full/);
    expect((err as SinkError).message).toMatch(/nothing was committed; once the cause is fixed, run again with --resume/);
    expect(await failureOf(() => run.finishUnits())).toBe(err);
    expect(() => run.write(1, batch(2), f.inputs[2])).toThrow(err as Error);
    await run.abort();
    expect(readManifest(run.manifestFile).units.size).toBe(0);
  });

  it('writing a unit\'s batches around the page cache (ENOSPC): the batch is copied, the end of the units and the next write fail with it', async () => {
    const f = fixture();
    const run = open(f);
    const write = fs.write;
    let calls = 0;
    // Small batches are written when their unit ends: sink 0's unit 1 first, then sink 1's.
    jest.spyOn(fs, 'write').mockImplementation(((fd: number, ...rest: unknown[]) => {
      const cb = rest.at(-1) as (err: NodeJS.ErrnoException | null, n: number) => void;
      if (calls++ === 1) return process.nextTick(() => cb(osError('ENOSPC', 'write'), 0));
      return (write as (...a: unknown[]) => void)(fd, ...rest);
    }) as typeof fs.write);
    const writes = writeTwoUnits(run, f);
    await Promise.all(writes);
    const err = await failureOf(() => run.finishUnits());
    expectLoud(err, f, /^cannot write the staged batches of unit 1/, 1, 'ENOSPC', /the disk is full/);
    expect((err as SinkError).message).toMatch(/nothing was committed; once the cause is fixed, run again with --resume/);
    expect(() => run.write(1, batch(2), f.inputs[2])).toThrow(err as Error);
    await run.abort();
    expect(readManifest(run.manifestFile).units.size).toBe(0);
  });

  it('the fsync of a unit\'s staged file (EIO)', async () => {
    const f = fixture();
    const run = open(f);
    const fsync = fs.fsync;
    let calls = 0;
    jest.spyOn(fs, 'fsync').mockImplementation(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      // Unit 1 of sink 0 is fsynced first, then unit 1 of sink 1.
      if (calls++ === 1) return process.nextTick(() => cb(osError('EIO', 'fsync')));
      return fsync(fd, cb);
    }) as typeof fs.fsync);
    writeTwoUnits(run, f);
    const err = await failureOf(() => run.finishUnits());
    expectLoud(err, f, /^cannot make the staged file durable \(fsync\) of unit 1/, 1, 'EIO', /an I\/O error on the device/);
    await run.abort();
    expect(readManifest(run.manifestFile).units.size).toBe(0);
  });

  it('the rename of a unit\'s staged file into units/ (EACCES): not renamed, not recorded', async () => {
    const f = fixture();
    const run = open(f);
    const rename = fsp.rename;
    jest.spyOn(fsp, 'rename').mockImplementation(async (from, to) => {
      if (String(to).includes(path.join(run.runId, 'units', 'u000001.frames')) && String(to).includes('b.csv')) throw osError('EACCES', 'rename');
      return rename(from, to);
    });
    writeTwoUnits(run, f);
    const err = await failureOf(() => run.finishUnits());
    expectLoud(err, f, /^cannot rename the staged file to .*u000001\.frames of unit 2/, 2, 'EACCES', /permission denied/);
    await run.abort();
    // Unit 1 was whole before the failure: recorded; unit 2 was not.
    expect([...readManifest(run.manifestFile).units.keys()]).toEqual([0]);
    expect(readdirSync(path.join(stagingDirOf(f.targets[1]), run.runId, 'units'))).toEqual(['u000000.frames']);
  });

  it('the fsync of the folder a staged file was renamed into (EIO)', async () => {
    const f = fixture();
    const run = open(f);
    const realOpen = fsp.open;
    jest.spyOn(fsp, 'open').mockImplementation(async (file, flags, mode) => {
      const fh = await realOpen(file, flags, mode);
      if (String(file).endsWith(path.join(run.runId, 'units')) && String(file).includes('b.csv')) jest.spyOn(fh, 'sync').mockRejectedValue(osError('EIO', 'fsync'));
      return fh;
    });
    writeTwoUnits(run, f);
    const err = await failureOf(() => run.finishUnits());
    expectLoud(err, f, /^cannot make the staged file's name durable \(fsync of its folder\) of unit 1/, 1, 'EIO', /an I\/O error/);
    await run.abort();
    expect(readManifest(run.manifestFile).units.size).toBe(0);
  });

  /** fsp.open of the manifest fails from its `from`-th call on (0: the run's first line, 1: the column types, 2: unit 1's line …). */
  const manifestFailsFrom = (run: () => UnitRun | undefined, from: number, code: string) => {
    const realOpen = fsp.open;
    let calls = 0;
    jest.spyOn(fsp, 'open').mockImplementation(async (file, flags, mode) => {
      if (String(file).endsWith('manifest.ndjson') && String(file) === (run()?.manifestFile ?? String(file)) && calls++ >= from) throw osError(code, 'open');
      return realOpen(file, flags, mode);
    });
  };

  it('the manifest line of a unit (ENOSPC): named with the manifest and the unit; units after it are not recorded either', async () => {
    const f = fixture();
    const run = open(f);
    manifestFailsFrom(() => run, 1, 'ENOSPC');
    writeTwoUnits(run, f);
    const err = await failureOf(() => run.finishUnits());
    expectLoud(err, f, /^cannot record the staged unit in the manifest of unit 1/, 1, 'ENOSPC', /the disk is full/, 'first');
    expect((err as SinkError).where?.staged).toBe(run.manifestFile);
    await run.abort();
    expect(readManifest(run.manifestFile).units.size).toBe(0);
  });

  it('the manifest\'s first line and its column types (EROFS): the run fails at its next write, nothing recorded', async () => {
    const f = fixture();
    manifestFailsFrom(() => undefined, 0, 'EROFS');
    const first = open(f);
    await expect(first.idle()).rejects.toThrow(SinkError);
    const err = await failureOf(() => first.write(0, batch(0), f.inputs[0]));
    expectLoud(err, f, /^cannot start the manifest for sink "first"/, undefined, 'EROFS', /the file system is read-only/, 'first');
    await first.abort();
    expect(readManifest(first.manifestFile).run).toBeUndefined();
    jest.restoreAllMocks();
    const run = open(f);
    manifestFailsFrom(() => run, 1, 'EROFS');
    run.recordSchema({ csv: { x: 'float64' } });
    const schema = await failureOf(() => run.idle());
    expectLoud(schema, f, /^cannot record the column types in the manifest for sink "first"/, undefined, 'EROFS', /read-only/, 'first');
    await run.abort();
    expect(readManifest(run.manifestFile).schema).toBeUndefined();
  });

  it('reading a staged unit back at the job commit (cut short since): named with its unit and file', async () => {
    const f = fixture();
    const run = open(f);
    writeTwoUnits(run, f);
    run.write(1, batch(12), f.inputs[2]);
    await run.finishUnits();
    const staged = path.join(stagingDirOf(f.targets[1]), run.runId, 'units', 'u000001.frames');
    truncateSync(staged, 20);
    const err = await failureOf(() => [...run.replay(1)]);
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).message).toMatch(new RegExp(`^cannot read back the staged batches of unit 2 \\(${f.inputs[1]}\\) for sink "second" \\(${f.targets[1]}\\); ${staged}; nothing was committed.*: ${staged}: a frame is cut short at byte 0$`));
    expect((err as SinkError).where).toEqual({ sink: 'second', path: f.targets[1], unit: 2, file: f.inputs[1], staged });
    await run.abort();
  });

  it('the job commit\'s manifest line (EIO): the outputs are published, and the message says the staging stays', async () => {
    const f = fixture();
    const run = open(f);
    writeTwoUnits(run, f);
    await run.finishUnits();
    manifestFailsFrom(() => run, 0, 'EIO');
    const err = await failureOf(() => run.committed());
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).message).toMatch(/^cannot record the job commit in the manifest for sink "first" .*: EIO .*every sink was published .*remove .* by hand/);
    expect(existsSync(run.manifestFile)).toBe(true);
    expect(readManifest(run.manifestFile).committed).toBe(false);
  });

  it('the job commit removes every staged file and folder, the manifest\'s last', async () => {
    const f = fixture();
    const run = open(f);
    writeTwoUnits(run, f);
    await run.finishUnits();
    await run.committed();
    expect(f.targets.filter((t) => existsSync(stagingDirOf(t)))).toEqual([]);
  });
});
