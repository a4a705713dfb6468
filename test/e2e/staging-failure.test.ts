/**
 * A resumable run whose staging fails (io/units/failures.ts) fails as a whole with a SinkError
 * that names the sink, the unit and its input file (never the OS's bare words), publishes
 * nothing, keeps the units recorded before the failure, and once the fault is gone `--resume`
 * finishes it with outputs byte for byte those of a run that never failed. One case per step of
 * the protocol a unit goes through (its batches written, around the page cache and through it;
 * its file fsynced; its manifest line appended), each with its own sink (pairs: the steps × the sink kinds, a Parquet file and a
 * CSV; the dead-letter output's staging is the same stager, io/units/staging.ts).
 *
 * Whole runs in the test's process (test/helpers/embedded-run.ts), with an inline stage only, so
 * the OS errors injected into this process's node:fs reach every file operation of the run; the
 * run is root here, so a read-only folder would not stop it.
 */
import fs, { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { SinkError } from '../../src/errors';
import { readManifest } from '../../src/io/units/manifest';
import { stagingDirOf, unitRunId } from '../../src/io/units/units';
import { runEmbedded, runEmbeddedOk } from '../helpers/embedded-run';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

const ws = workspace('sluice-staging-failure-');
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

const FILES = 4;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
const names = Array.from({ length: FILES }, (_, i) => {
  const file = path.join(inputs, `f${i + 1}.csv`);
  writeFileSync(file, ['id,name,v', ...Array.from({ length: 25 }, (_, j) => `${i * 100 + j},n${i},${j + 0.5}`)].join('\n') + '\n');
  return file;
});

const SINKS = [
  { name: 'pq', format: 'parquet', path: 'all.parquet' },
  { name: 'text', format: 'csv', path: 'all.csv' },
] as const;

function setup(caseName: string): { dir: string; config: string; targets: string[] } {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir);
  const config = ws.config(
    {
      name: 'staging-failure',
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 10 },
      stages: [{ name: 'same', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'inline' }],
      sinks: SINKS.map((s) => ({ ...s, path: path.join(dir, 'out', s.path) })),
      resumable: true,
    },
    `${caseName}.config.ts`,
  );
  return { dir, config, targets: SINKS.map((s) => path.join(dir, 'out', s.path)) };
}

const bytes = (targets: string[]) => targets.map((t) => readFileSync(t));
const osError = (code: string, syscall: string) => Object.assign(new Error(`${code}: injected, ${syscall}`), { code, syscall, errno: -1 });

/** Per staged unit file opened (sink k: its target's staging folder), its fd: what the faults below pick. */
function stagedFds(): Map<number, string> {
  const fds = new Map<number, string>();
  const openSync = fs.openSync;
  jest.spyOn(fs, 'openSync').mockImplementation((file, ...rest) => {
    const fd = openSync(file, ...(rest as [fs.OpenMode]));
    if (String(file).endsWith('.frames')) fds.set(fd, String(file));
    return fd;
  });
  return fds;
}

/** The staged file of unit `unit` (from 1) of sink `sink`, among the open ones. */
const isUnitOf = (file: string | undefined, sink: string, unit: number) => file !== undefined && file.includes(`.${path.basename(sink)}.sluice-staging`) && file.endsWith(`u${String(unit - 1).padStart(6, '0')}.frames`);

/**
 * Writes to unit `unit`'s staged file of sink `sink` fail with ENOSPC: `fs.write` of its aligned
 * buffers where staging bypasses the page cache (io/units/staged-file.ts), `fs.writev` of the
 * batches' own buffers where it does not (SLUICE_STAGING_DIRECT=0).
 */
function failWrites(sink: string, unit: number): void {
  const fds = stagedFds();
  const { write, writev } = fs;
  const fails = (fd: number) => isUnitOf(fds.get(fd), sink, unit);
  jest.spyOn(fs, 'writev').mockImplementation(((fd: number, chunks: NodeJS.ArrayBufferView[], cb: (err: NodeJS.ErrnoException | null, n: number) => void) => {
    if (fails(fd)) return process.nextTick(() => cb(osError('ENOSPC', 'write'), 0));
    return writev(fd, chunks, cb);
  }) as typeof fs.writev);
  jest.spyOn(fs, 'write').mockImplementation(((fd: number, ...rest: unknown[]) => {
    const cb = rest.at(-1) as (err: NodeJS.ErrnoException | null, n: number) => void;
    if (fails(fd)) return process.nextTick(() => cb(osError('ENOSPC', 'write'), 0));
    return (write as (...a: unknown[]) => void)(fd, ...rest);
  }) as typeof fs.write);
}

const FAULTS: { step: string; sink: (typeof SINKS)[number]; message: RegExp; inject: (manifest: string) => void }[] = [
  {
    step: 'a unit\'s batches written (ENOSPC)',
    sink: SINKS[1],
    message: /^cannot write the staged batches of unit 3 \(.*f3\.csv\) for sink "text" \(.*all\.csv\): ENOSPC \(the disk is full/,
    inject: () => failWrites('all.csv', 3),
  },
  {
    step: 'a unit\'s batches written through the page cache (ENOSPC; SLUICE_STAGING_DIRECT=0)',
    sink: SINKS[0],
    message: /^cannot write the staged batches of unit 2 \(.*f2\.csv\) for sink "pq" \(.*all\.parquet\): ENOSPC \(the disk is full/,
    inject: () => {
      process.env.SLUICE_STAGING_DIRECT = '0';
      failWrites('all.parquet', 2);
    },
  },
  {
    step: 'a unit\'s file fsynced (EIO)',
    sink: SINKS[0],
    message: /^cannot make the staged file durable \(fsync\) of unit 2 \(.*f2\.csv\) for sink "pq" \(.*all\.parquet\): EIO \(an I\/O error on the device/,
    inject: () => {
      const fds = stagedFds();
      const fsync = fs.fsync;
      jest.spyOn(fs, 'fsync').mockImplementation(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
        if (isUnitOf(fds.get(fd), 'all.parquet', 2)) return process.nextTick(() => cb(osError('EIO', 'fsync')));
        return fsync(fd, cb);
      }) as typeof fs.fsync);
    },
  },
  {
    step: 'a unit\'s manifest line appended (ENOSPC)',
    sink: SINKS[0],
    message: /^cannot record the staged unit in the manifest of unit 2 \(.*f2\.csv\) for sink "pq" \(.*all\.parquet\): ENOSPC \(the disk is full.*manifest\.ndjson/,
    inject: (manifest) => {
      const realOpen = fsp.open;
      let lines = 0;
      jest.spyOn(fsp, 'open').mockImplementation(async (file, flags, mode) => {
        // Its lines: the run's (0), the column types (1), unit 1's (2), unit 2's (3).
        if (String(file) === manifest && lines++ === 3) throw osError('ENOSPC', 'open');
        return realOpen(file, flags, mode);
      });
    },
  },
];

let reference: Buffer[];
beforeAll(async () => {
  const { config, targets } = setup('reference');
  await runEmbeddedOk(config);
  reference = bytes(targets);
});

describe.each(FAULTS)('staging fails at $step', ({ sink, message, inject }) => {
  const failedUnit = Number(/of unit (\d+)/.exec(message.source)![1]);
  it('a SinkError naming the sink, the unit and its file; nothing published; --resume then gives the uninterrupted output', async () => {
    const { dir, config, targets } = setup(`fault-${FAULTS.findIndex((f) => f.sink === sink && f.message === message)}`);
    const manifest = path.join(stagingDirOf(targets[0]), unitRunId(targets), 'manifest.ndjson');
    inject(manifest);
    const r = await runEmbedded(config);
    jest.restoreAllMocks();
    delete process.env.SLUICE_STAGING_DIRECT;
    expect(r.error).toBeInstanceOf(SinkError);
    expect(r.error!.message).toMatch(message);
    expect(r.error!.message).toMatch(/nothing was committed; once the cause is fixed, run again with --resume/);
    expect((r.error as SinkError).where).toMatchObject({ sink: sink.name, path: path.join(dir, 'out', sink.path) });
    // Nothing published: no output, no temporary of a sink beside the staging.
    expect(targets.filter((t) => existsSync(t))).toEqual([]);
    expect(readdirSync(path.join(dir, 'out')).filter((f) => !f.includes('.sluice-staging'))).toEqual([]);
    // The units recorded before the fault (how many depends on how far the sinks got) are kept, and not read again; the failed one is not among them.
    const kept = [...readManifest(manifest).units.keys()];
    expect(kept.every((u) => u < failedUnit - 1)).toBe(true);
    const resumed = await runEmbeddedOk(config, { units: 'resume' });
    expect(resumed.units?.reused).toEqual(kept.map((u) => names[u]));
    expect(bytes(targets)).toEqual(reference);
  });
});
