/** One writer per sink path: the lock names its holder, stale locks are taken over, commit re-checks the mode. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import type { Logger } from 'pino';
import { openSink } from '../../../../src/io/sinks';
import { SinkLock, lockPath } from '../../../../src/io/sinks/lock';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let k = 0;
const target = (ext = 'csv') => path.join(dir, `o${k++}.${ext}`);
const batch = tableFromArrays({ x: Int32Array.from([1, 2, 3]) }).batches[0];
/** A pid that just exited: dead on this host. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
const fakeLog = () => {
  const warnings: string[] = [];
  const log = { warn: (_o: unknown, msg: string) => warnings.push(msg), debug: () => undefined, info: () => undefined } as unknown as Logger;
  return { log, warnings };
};
const writeLock = (t: string, holder: Record<string, unknown>) => writeFileSync(lockPath(t), JSON.stringify(holder));

it('a second writer on the same path fails at once, naming the holder; the lock goes on commit', async () => {
  const p = target();
  const first = await openSink({ format: 'csv', path: p }, { pipeline: 'nightly' });
  const holder = JSON.parse(readFileSync(lockPath(p), 'utf8'));
  expect(holder).toMatchObject({ pid: process.pid, hostname: os.hostname(), pipeline: 'nightly' });
  await expect(openSink({ format: 'csv', path: p }, { pipeline: 'other' })).rejects.toThrow(
    new RegExp(`${p.replace(/[.]/g, '\\.')} is being written by pid ${process.pid} \\(pipeline nightly, started ${holder.startedAt}\\) on host ${os.hostname()}`),
  );
  await first.write(batch, { seq: 0 });
  await first.commit();
  expect(existsSync(lockPath(p))).toBe(false);
  const second = await openSink({ format: 'csv', path: p });
  await second.abort();
  expect(readdirSync(dir).filter((n) => n.includes(path.basename(p)))).toEqual([path.basename(p)]);
});

it('abort releases the lock too', async () => {
  const p = target();
  const sink = await openSink({ format: 'csv', path: p });
  await sink.write(batch, { seq: 0 });
  await sink.abort();
  expect(existsSync(lockPath(p))).toBe(false);
});

it('a lock whose pid is dead on this host is stale: taken over, and said so', async () => {
  const p = target();
  const pid = deadPid();
  writeLock(p, { pid, hostname: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', pipeline: 'gone' });
  const { log, warnings } = fakeLog();
  const lock = SinkLock.acquire(p, 'mine', log);
  expect(JSON.parse(readFileSync(lockPath(p), 'utf8')).pipeline).toBe('mine');
  expect(warnings.join('\n')).toContain(`took over the lock on ${p}: its holder, pid ${pid} (pipeline gone`);
  lock.release();
  expect(existsSync(lockPath(p))).toBe(false);
});

it('a lock whose pid now belongs to a later process (pid reused) is stale', () => {
  const p = target();
  // pid 1 is alive, but started at another moment than the lock says.
  writeLock(p, { pid: 1, pidStart: '1', hostname: os.hostname(), startedAt: 'x', pipeline: 'old' });
  const lock = SinkLock.acquire(p, 'mine');
  expect(JSON.parse(readFileSync(lockPath(p), 'utf8')).pipeline).toBe('mine');
  lock.release();
  writeLock(p, { pid: 1, hostname: os.hostname(), startedAt: 'x', pipeline: 'init' });
  expect(() => SinkLock.acquire(p, 'mine')).toThrow(/is being written by pid 1 \(pipeline init/);
});

it("a lock of this very process that no run holds (leaked) is stale; one a run holds is not", () => {
  const p = target();
  writeLock(p, { pid: process.pid, hostname: os.hostname(), startedAt: 'x', pipeline: 'leaked' });
  const lock = SinkLock.acquire(p, 'mine');
  expect(() => SinkLock.acquire(p, 'again')).toThrow(/is being written by pid/);
  lock.release();
});

it('a lock from another host is never taken over: the message says which file to remove', () => {
  const p = target();
  writeLock(p, { pid: 1, hostname: 'elsewhere', startedAt: '2026-01-01T00:00:00.000Z', pipeline: 'far' });
  expect(() => SinkLock.acquire(p, 'mine')).toThrow(`is being written by pid 1 (pipeline far, started 2026-01-01T00:00:00.000Z) on host elsewhere: one run writes a sink path at a time; wait for it to finish, or if it is gone, remove ${lockPath(p)}`);
  writeFileSync(lockPath(p), 'garbage');
  expect(() => SinkLock.acquire(p, 'mine')).toThrow(`which sluice cannot read; if no run is writing ${p}, remove that file`);
});

describe('the mode is checked again at commit', () => {
  it.each(['csv', 'parquet', 'arrow'] as const)('error-if-exists (%s): a file that appeared during the run is kept, the run fails', async (format) => {
    const p = target(format);
    const sink = await openSink({ format, path: p, mode: 'error-if-exists' });
    await sink.write(batch, { seq: 0 });
    writeFileSync(p, 'theirs\n');
    await expect(sink.commit()).rejects.toThrow(`${p} was created by something else during this run and sink.mode is "error-if-exists"`);
    await sink.abort();
    expect(readFileSync(p, 'utf8')).toBe('theirs\n');
    expect(readdirSync(dir).filter((n) => n.includes(path.basename(p)))).toEqual([path.basename(p)]);
  });

  it('error-if-exists, partitioned: a directory that appeared is kept', async () => {
    const p = target('d');
    const sink = await openSink({ format: 'csv', path: p, mode: 'error-if-exists', partitionBy: ['x'] });
    await sink.write(batch, { seq: 0 });
    mkdirSync(path.join(p, 'theirs'), { recursive: true });
    await expect(sink.commit()).rejects.toThrow(/was created by something else during this run/);
    await sink.abort();
    expect(readdirSync(p)).toEqual(['theirs']);
  });

  it('append to a file that did not exist: one that appeared during the run is kept', async () => {
    const p = target();
    const sink = await openSink({ format: 'csv', path: p, mode: 'append' });
    await sink.write(batch, { seq: 0 });
    writeFileSync(p, 'theirs\n');
    await expect(sink.commit()).rejects.toThrow(`${p} was created by something else during this run and sink.mode is "append"`);
    await sink.abort();
    expect(readFileSync(p, 'utf8')).toBe('theirs\n');
  });

  it('append: a file changed by another writer during the run is not replaced', async () => {
    const p = target();
    writeFileSync(p, 'x\n0\n');
    const sink = await openSink({ format: 'csv', path: p, mode: 'append' });
    await sink.write(batch, { seq: 0 });
    writeFileSync(p, 'x\n0\n42\n');
    await expect(sink.commit()).rejects.toThrow(`${p} changed during this run`);
    await sink.abort();
    expect(readFileSync(p, 'utf8')).toBe('x\n0\n42\n');
  });
});
