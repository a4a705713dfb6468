/**
 * The staging thread (io/units/staging-thread.ts): shared memory (what stage copies hand on) is
 * posted as it is, never copied on the main thread; ordinary memory is copied there once, into
 * reused slabs; a thread that dies fails what it owed and every file it held, loudly and at once
 * (never a hang), and the next file opened gets a new thread. The bytes themselves are checked in
 * staged-file.test.ts, for both writers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StagingThread, stagedWriter } from '../../../../src/io/units/staging-thread';
import { workspace } from '../../../helpers/workspace';

const ws = workspace('sluice-staging-thread-');
afterAll(() => ws.cleanup());

const sharedBytes = (n: number, fill: number) => new Uint8Array(new SharedArrayBuffer(n)).fill(fill);
/** The thread's worker (a test reaches in to kill it as an OOM or a crash would). */
const workerOf = (t: StagingThread) => (t as unknown as { lane: { copy: { worker: { terminate(): Promise<number> } } } }).lane.copy.worker;

it('posts shared memory as it is and copies ordinary memory once on the main thread', async () => {
  const t = new StagingThread();
  const file = path.join(ws.dir, 'mixed.frames');
  const staged = t.open(file, 'probe');
  const head = Uint8Array.of(1, 2, 3);
  const body = sharedBytes(1 << 20, 7);
  await staged.append([head, body]);
  await staged.append([body.subarray(5, 9)]);
  await staged.flush();
  await staged.sync();
  await staged.close();
  await t.close();
  expect(t.stats).toEqual({ shared: (1 << 20) + 4, copied: 3, threads: 1 });
  const got = readFileSync(file);
  expect(got.length).toBe(3 + (1 << 20) + 4);
  expect([...got.subarray(0, 3)]).toEqual([1, 2, 3]);
  expect(got.subarray(3).every((b) => b === 7)).toBe(true);
});

it('a thread that dies fails what it owed and its files at once; the next file gets a new thread', async () => {
  const t = new StagingThread();
  const staged = t.open(path.join(ws.dir, 'dies.frames'), 'probe');
  await staged.append([sharedBytes(100, 1)]);
  // Owed while it dies: an append of more than its buffers hold (it waits for writes).
  const owed = staged.append([sharedBytes(64 << 20, 2)]);
  await workerOf(t).terminate();
  await expect(owed).rejects.toThrow(/^the staging thread ended \(exit code 1\)$/);
  await expect(staged.flush()).rejects.toThrow(/^the staging thread ended/);
  await expect(staged.close()).rejects.toThrow(/^the staging thread ended/);
  const file = path.join(ws.dir, 'after.frames');
  const next = t.open(file, 'probe');
  await next.append([Uint8Array.of(4, 5)]);
  await next.flush();
  await next.close();
  await t.close();
  expect(t.stats.threads).toBe(2);
  expect([...readFileSync(file)]).toEqual([4, 5]);
});

it('close() ends the thread; a file opened later starts another, and close() ends that one too', async () => {
  const t = new StagingThread();
  const a = t.open(path.join(ws.dir, 'a.frames'), false);
  await a.close();
  const first = workerOf(t);
  await t.close();
  const b = t.open(path.join(ws.dir, 'b.frames'), false);
  expect(workerOf(t)).not.toBe(first);
  await b.close();
  await t.close();
  expect(t.stats.threads).toBe(2);
});

it('a run writes its staged files on the staging thread, or on the main thread with SLUICE_STAGING_THREAD=0', async () => {
  const before = process.env.SLUICE_STAGING_THREAD;
  try {
    delete process.env.SLUICE_STAGING_THREAD;
    expect(stagedWriter()).toBeInstanceOf(StagingThread);
    process.env.SLUICE_STAGING_THREAD = '0';
    const writer = stagedWriter();
    expect(writer).not.toBeInstanceOf(StagingThread);
    const file = path.join(ws.dir, 'main.frames');
    const staged = writer.open(file, 'probe');
    await staged.append([Uint8Array.of(8)]);
    await staged.flush();
    await staged.close();
    await writer.close();
    expect([...readFileSync(file)]).toEqual([8]);
  } finally {
    if (before === undefined) delete process.env.SLUICE_STAGING_THREAD;
    else process.env.SLUICE_STAGING_THREAD = before;
  }
});
