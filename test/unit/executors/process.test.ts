/**
 * ProcessExecutor against real child processes: Arrow types across the transport,
 * placement (pids, overlap), setup/flush once per copy, and every way a child can fail.
 */
import { ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OwnedBatch } from '../../../src/batch/owned';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import pl from 'nodejs-polars';
import { EncoderPool } from '../../../src/io/parquet/encoder/pool';
import { ParquetWriter } from '../../../src/io/sinks/writers/parquet';
import { Int32, RecordBatch, Table, makeVector, vectorFromArray } from 'apache-arrow';
import pino from 'pino';
import { encodeBatches } from '../../../src/batch/ipc';
import { toShared } from '../../../src/batch/shared';
import { isSlab, refCount, SlabArena } from '../../../src/batch/slab';
import { StageError, WorkerExitError, type SluiceError } from '../../../src/errors';
import { ProcessExecutor, type ProcessExecutorOptions } from '../../../src/executors/process';
import { SLOTS_PER_COPY } from '../../../src/defaults';
import type { PlannedStage } from '../../../src/plan/types';
import { allTypesBatch, expectBatchesEqual } from '../../helpers/arrow-types';
import { fairTimeout } from '../../helpers/fair-clock';

const FIXTURES = path.resolve(__dirname, '../../fixtures/stages');

let executors: ProcessExecutor[] = [];
let logLines: Array<Record<string, unknown>> = [];

afterEach(async () => {
  await Promise.all(executors.map((e) => e.abort()));
  executors = [];
  logLines = [];
});

function planned(fixture: string, copies = 1, options: Record<string, unknown> = {}): PlannedStage {
  return {
    name: `st-${fixture}`,
    modulePath: path.join(FIXTURES, `${fixture}.ts`),
    mode: 'process',
    copies,
    slotsPerCopy: SLOTS_PER_COPY.process,
    options,
    output: { capacity: 4, capacityBytes: 1 << 20 },
  };
}

function executor(fixture: string, copies = 1, options: Record<string, unknown> = {}, opts?: ProcessExecutorOptions, arena?: SlabArena): ProcessExecutor {
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  const e = new ProcessExecutor(planned(fixture, copies, options), { log, arena }, opts);
  executors.push(e);
  return e;
}

function ints(values: number[]): RecordBatch {
  return new Table({ x: vectorFromArray(values, new Int32()) }).batches[0];
}

function column(batches: RecordBatch[], name: string): number[] {
  return batches.flatMap((b) => Array.from(b.getChild(name)!.toArray() as Int32Array));
}

/** Resolves with the first fatal error the executor reports. */
function nextFatal(e: ProcessExecutor): Promise<SluiceError> {
  return new Promise((resolve) => e.onFatal(resolve));
}

describe('process executor: data across the transport', () => {
  /** One proc-echo child for the tests that only pass data through it and back (one child fewer to start); stopped after them. */
  let echo: Promise<ProcessExecutor> | undefined;
  const sharedEcho = () =>
    (echo ??= (async () => {
      const e = new ProcessExecutor(planned('proc-echo'), { log: pino({ level: 'silent' }) });
      await e.start();
      return e;
    })());
  afterAll(async () => void (await (await echo)?.abort()));

  it('round-trips every Arrow type (64-bit ints exactly, utf8view, dictionary, nested) through a child', async () => {
    const e = await sharedEcho();
    const before = e.stats();
    const a = allTypesBatch(13);
    const b = allTypesBatch(4);
    const out = await e.process(new OwnedBatch({ seq: 0, batches: [a, b, ints([1, 2, 3])] }));
    expect(out.batches).toHaveLength(3);
    expectBatchesEqual(out.batches[0], a);
    expectBatchesEqual(out.batches[1], b);
    expectBatchesEqual(out.batches[2], ints([1, 2, 3]));
    expect(out.batches[0].getChild('i64')!.get(0)).toBe(-9007199254740993n);
    expect(String(out.batches[0].schema.fields.find((f) => f.name === 'utf8_view')!.type)).toBe('Utf8View');
    const stats = e.stats();
    expect(stats.bytesPacked - before.bytesPacked).toBe(0);
    // Both directions are counted: the input's IPC bytes, then about as many back.
    const sent = encodeBatches([a, b, ints([1, 2, 3])]).byteLength;
    expect(stats.bytesSerialized - before.bytesSerialized).toBeGreaterThan(1.5 * sent);
    out.release();
  });

  it('reads results into recycled slabs: in place for large ones, reused once the lease is released', async () => {
    const arena = new SlabArena();
    const e = executor('proc-echo', 1, {}, undefined, arena);
    await e.start();
    const values = Int32Array.from({ length: 1 << 18 }, (_, i) => i * 7); // 1 MiB
    const big = new Table({ x: makeVector(values) }).batches[0];
    const bytesOf = (a: Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const sameValues = (b: RecordBatch) => expect(Buffer.compare(bytesOf(b.getChild('x')!.toArray() as Int32Array), bytesOf(values))).toBe(0);
    const first = await e.process(new OwnedBatch({ seq: 0, batches: [big] }));
    const slab = first.batches[0].getChild('x')!.data[0].values.buffer;
    expect(isSlab(slab)).toBe(true);
    expect(refCount(slab as SharedArrayBuffer)).toBe(1);
    sameValues(first.batches[0]);
    // The kernel wrote the 1 MiB payload into the slab itself; only the frame's small
    // leading part went through the 64 KiB scratch buffer.
    expect(e.stats().bytesCopied).toBeLessThan(64 * 1024);
    expect(e.stats().bytesSerialized).toBeGreaterThan(2 * (1 << 20));
    // A thread stage downstream references the slab instead of copying the batch.
    const packed = toShared(first.batches, new SlabArena());
    expect(packed.packedBytes).toBe(0);
    expect(refCount(slab as SharedArrayBuffer)).toBe(2);
    packed.lease.release();
    first.release();
    expect(refCount(slab as SharedArrayBuffer)).toBe(0);
    const second = await e.process(new OwnedBatch({ seq: 1, batches: [big] }));
    expect(second.batches[0].getChild('x')!.data[0].values.buffer).toBe(slab);
    expect(arena.stats.reuses).toBeGreaterThanOrEqual(1);
    sameValues(second.batches[0]);
    second.release();
  });

  it('a result that lies in its slab as an IPC stream reaches the Parquet encoder in place (no re-encoding, no copy)', async () => {
    const e = executor('proc-echo', 1, {}, undefined, new SlabArena());
    await e.start();
    const values = Int32Array.from({ length: 100_000 }, (_, i) => i * 3);
    const out = await e.process(new OwnedBatch({ seq: 0, batches: [new Table({ x: makeVector(values) }).batches[0]] }));
    expect(out.backing).toMatchObject({ format: 'ipc-stream' });
    expect(out.backing!.slab).toBe(out.batch.getChild('x')!.data[0].values.buffer);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-proc-parquet-'));
    const file = path.join(dir, 'out.parquet');
    const pool = new EncoderPool();
    try {
      const writer = new ParquetWriter(file, { compression: 'zstd', rowGroupSize: 500_000 }, pool);
      await writer.write(out.batch, out.backing);
      out.release(); // the pool holds the slab until its thread has read it
      await writer.close();
      expect({ rows: writer.rows, rowGroups: writer.rowGroups }).toEqual({ rows: values.length, rowGroups: 1 });
      expect(pool.stats).toMatchObject({ readInPlace: 1, slotAllocations: 0 });
    } finally {
      await pool.destroy();
    }
    expect(Array.from(pl.readParquet(file).getColumn('x').toArray())).toEqual(Array.from(values));
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes empty results and zero-row batches through', async () => {
    const e = await sharedEcho();
    expect((await e.process(new OwnedBatch({ seq: 10, batches: [] }))).batches).toEqual([]);
    const out = await e.process(new OwnedBatch({ seq: 11, batches: [ints([])] }));
    expect(out.batches.map((b) => b.numRows)).toEqual([0]);
    expect(out.batches[0].schema.fields.map((f) => f.name)).toEqual(['x']);
  });
});

describe('process executor: placement', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-proc-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the stage in other processes; two copies are busy at the same time; setup once and flush once per child, one flush output per child', async () => {
    // The test answers a check-in only while two tasks from two pids are checked in at once,
    // so both tasks can only finish if two children ran them concurrently. After that first
    // pair it answers every check-in at once: the same two children then serve the setup and
    // flush checks (one executor for both: two children fewer to start).
    const socketPath = path.join(dir, 'rendezvous.sock');
    const waiting = new Map<number, net.Socket>();
    const seenTogether: number[][] = [];
    let paired = false;
    const server = net.createServer((socket) => {
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => {
        if (paired) return void socket.write('go\n');
        waiting.set(Number(text.trim()), socket);
        if (waiting.size === 2) {
          seenTogether.push([...waiting.keys()].sort());
          paired = true;
          for (const s of waiting.values()) s.write('go\n');
          waiting.clear();
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const e = executor('proc-probe', 2, { rendezvous: socketPath });
      await e.start();
      expect(e.slots).toBe(4);
      const outs = await Promise.all([e.process(new OwnedBatch({ seq: 0, batches: [ints([1])] })), e.process(new OwnedBatch({ seq: 1, batches: [ints([1, 2])] }))]);
      const pids = outs.map((o) => column(o.batches, 'pid')[0]);
      expect(new Set(pids).size).toBe(2);
      expect(pids).not.toContain(process.pid);
      expect([...pids].sort()).toEqual([...e.pids].sort());
      expect(seenTogether).toEqual([[...pids].sort()]);
      expect(outs.map((o) => column(o.batches, 'rows')[0])).toEqual([1, 2]);
      // Setup once and flush once per child, one flush output per child.
      const run = (seqs: number[]) => Promise.all(seqs.map((seq) => e.process(new OwnedBatch({ seq, batches: [ints([seq])] }))));
      const more = [...(await run([2, 3, 4, 5])), ...(await run([6, 7]))]; // at most `slots` (4) in flight
      const taskPids = new Set([...outs, ...more].map((o) => column(o.batches, 'pid')[0]));
      expect(taskPids.size).toBe(2);
      const flushed = await e.flush();
      expect(flushed).toHaveLength(2);
      const rows = flushed.map((f) => ({
        pid: column(f.batches, 'pid')[0],
        copy: column(f.batches, 'copy')[0],
        setups: column(f.batches, 'setups')[0],
        flushes: column(f.batches, 'flushes')[0],
        processed: column(f.batches, 'processed')[0],
      }));
      expect(rows.map((r) => r.copy)).toEqual([0, 1]);
      expect(new Set(rows.map((r) => r.pid))).toEqual(taskPids);
      expect(rows.map((r) => r.setups)).toEqual([1, 1]);
      expect(rows.map((r) => r.flushes)).toEqual([1, 1]);
      expect(rows.reduce((n, r) => n + r.processed, 0)).toBe(8);
      await e.close();
    } finally {
      server.close();
    }
  }, 20_000);

  it('keeps transferring while the stage computes: the next batch leaves main while the child is blocked', async () => {
    // proc-block holds its thread (no event loop turns) until the gate file exists. The
    // second batch (4 MiB, 20× the socket buffer) can only leave main if the child's I/O
    // thread keeps reading meanwhile.
    const gate = path.join(dir, 'gate');
    const e = executor('proc-block', 1, { gate });
    await e.start();
    const first = e.process(new OwnedBatch({ seq: 0, batches: [ints([1])] }));
    const big = new Table({ x: makeVector(new Int32Array(1 << 20).fill(5)) }).batches[0];
    const second = e.process(new OwnedBatch({ seq: 1, batches: [big] }));
    // 15 s of a fair share of the CPU (test/helpers/fair-clock.cjs), not of the wall: on a loaded machine a wall-clock limit fails a healthy transfer.
    let cancel = () => {};
    const deadline = new Promise((_, reject) => (cancel = fairTimeout(15_000, () => reject(new Error('the 4 MiB frame did not leave main while the stage was blocked')))));
    await Promise.race([e.written(), deadline]).finally(() => cancel());
    writeFileSync(gate, '');
    const outs = await Promise.all([first, second]);
    expect(outs.map((o) => o.batches[0].numRows)).toEqual([1, 1 << 20]);
    outs.forEach((o) => o.release());
  });

  it('forwards the child logs into the stage logger with stage and worker fields', async () => {
    const e = executor('proc-log');
    await e.start();
    await e.process(new OwnedBatch({ seq: 0, batches: [ints([1, 2])] }));
    await e.close(); // stdout/stderr are drained once the child has exited
    const fromChild = logLines.filter((l) => l.stage === 'st-proc-log' && l.worker === 0);
    expect(fromChild).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ msg: 'hello from a child', rows: 2, level: 30 }),
        expect.objectContaining({ msg: 'plain text on stdout', level: 30 }),
        expect.objectContaining({ msg: 'plain text on stderr', level: 40 }),
      ]),
    );
  });
});

describe('process executor: failures', () => {
  it('rejects with a StageError naming stage, copy, batch and source file when the stage throws', async () => {
    const e = executor('proc-fail', 1, { at: 1, how: 'throw' });
    await e.start();
    await e.process(new OwnedBatch({ seq: 10, batches: [ints([1])] }));
    const err = await e.process(new OwnedBatch({ seq: 11, sourceFile: 'in.csv', batches: [ints([2])] })).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(StageError);
    expect((err as StageError).phase).toBe('process');
    expect((err as StageError).location).toEqual({ stage: 'st-proc-fail', copy: 0, seq: 11, sourceFile: 'in.csv' });
    expect((err as Error).message).toMatch(/stage "st-proc-fail", copy 0, batch #11, from in\.csv failed in process\(\): deliberate failure in proc-fail/);
    // The child survives its stage's exception and keeps working.
    const next = await e.process(new OwnedBatch({ seq: 12, batches: [ints([3])] }));
    expect(column(next.batches, 'pid')[0]).toBe(e.pids[0]);
  });

  it('rejects every pending task with a WorkerExitError when the stage calls process.exit(2), and fires onFatal', async () => {
    const e = executor('proc-fail', 1, { at: 0, how: 'exit' });
    await e.start();
    const fatal = nextFatal(e);
    // Pipelined: the second task (a few MB) is still being written when the child dies (EPIPE must not crash us).
    const big = ints(Array.from({ length: 1 << 20 }, (_, i) => i));
    const results = await Promise.allSettled([e.process(new OwnedBatch({ seq: 5, batches: [ints([1])] })), e.process(new OwnedBatch({ seq: 6, batches: [big] }))]);
    const errors = results.map((r) => (r as PromiseRejectedResult).reason as WorkerExitError);
    expect(errors.map((x) => x instanceof WorkerExitError)).toEqual([true, true]);
    expect(errors.map((x) => x.exitCode)).toEqual([2, 2]);
    expect(errors.map((x) => x.location.seq)).toEqual([5, 6]);
    expect(errors[0].message).toMatch(/stage "st-proc-fail", copy 0, batch #5: worker exited with code 2/);
    expect((await fatal).message).toBe(errors[0].message); // the same words, from the one mapping (supervisor/death.ts)
    // A task sent after the death is refused at once, naming its own batch.
    await expect(e.process(new OwnedBatch({ seq: 7, batches: [ints([1])] }))).rejects.toThrow(/batch #7: worker exited with code 2/);
  });

  it('reports the exit code of a child whose channel closed a while before it exited (no kill in between: the flake of a loaded machine)', async () => {
    const e = executor('proc-fail', 1, { at: 0, how: 'slow-exit' });
    await e.start();
    const err = (await e.process(new OwnedBatch({ seq: 3, batches: [ints([1])] })).catch((x: unknown) => x)) as WorkerExitError;
    expect(err).toBeInstanceOf(WorkerExitError);
    expect({ exitCode: err.exitCode, signal: err.signal }).toEqual({ exitCode: 2, signal: null });
  });

  it('reports a child killed with SIGKILL from outside while a task is pending', async () => {
    const e = executor('proc-fail', 1, { at: 1, how: 'hang' });
    await e.start();
    const first = await e.process(new OwnedBatch({ seq: 0, batches: [ints([1])] }));
    const pid = column(first.batches, 'pid')[0];
    expect(pid).toBe(e.pids[0]);
    const pending = e.process(new OwnedBatch({ seq: 1, batches: [ints([2])] }));
    process.kill(pid, 'SIGKILL');
    const err = (await pending.catch((x: unknown) => x)) as WorkerExitError;
    expect(err).toBeInstanceOf(WorkerExitError);
    expect(err.signal).toBe('SIGKILL');
    expect(err.location).toEqual({ stage: 'st-proc-fail', copy: 0, seq: 1, sourceFile: undefined });
    expect(err.message).toMatch(/batch #1: worker was killed by SIGKILL/);
  });

  it('fires onFatal when a child dies between tasks', async () => {
    const e = executor('proc-echo', 2);
    await e.start();
    const fatal = nextFatal(e);
    process.kill(e.pids[1], 'SIGKILL');
    const err = await fatal;
    expect(err).toBeInstanceOf(WorkerExitError);
    expect((err as WorkerExitError).location).toEqual({ stage: 'st-proc-echo', copy: 1 });
    expect((err as WorkerExitError).signal).toBe('SIGKILL');
  });

  it('kills a child that corrupts its frame channel and says so', async () => {
    const e = executor('proc-fail', 1, { at: 0, how: 'garbage' });
    await e.start();
    const err = (await e.process(new OwnedBatch({ seq: 4, batches: [ints([1])] })).catch((x: unknown) => x)) as WorkerExitError;
    expect(err).toBeInstanceOf(WorkerExitError);
    expect(err.signal).toBe('SIGKILL');
    expect(err.message).toMatch(/batch #4: worker was killed by SIGKILL/);
    expect(err.message).toMatch(/frame channel is corrupt/);
  });

  it('names the batch the child was running when it was killed, not an earlier one whose result was lost', async () => {
    // Two tasks in flight: the child finishes #20 (its result may die unsent with the child's
    // I/O thread), then SIGKILLs itself in #21. However the race goes, #21 is named.
    const e = executor('e2e-fail', 1, { at: 1, how: 'kill' });
    await e.start();
    const fatal = nextFatal(e);
    const results = await Promise.allSettled([e.process(new OwnedBatch({ seq: 20, batches: [ints([1])] })), e.process(new OwnedBatch({ seq: 21, batches: [ints([2])] }))]);
    expect(results[1].status).toBe('rejected');
    expect(((results[1] as PromiseRejectedResult).reason as Error).message).toMatch(/batch #21: worker was killed by SIGKILL/);
    expect((await fatal).message).toMatch(/batch #21: worker was killed by SIGKILL/);
    // The child's "running task" markers are protocol, not log lines.
    expect(logLines.some((l) => String(l.msg).includes('running-task'))).toBe(false);
  });

  it('puts the last stderr lines of a crashed child into the error', async () => {
    const e = executor('proc-fail', 1, { at: 0, how: 'uncaught' });
    await e.start();
    const err = (await e.process(new OwnedBatch({ seq: 3, batches: [ints([1])] })).catch((x: unknown) => x)) as WorkerExitError;
    expect(err).toBeInstanceOf(WorkerExitError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/batch #3: worker exited with code 1/);
    expect(err.message).toMatch(/deliberate uncaught error in proc-fail/);
  });

  it('rejects start() with a StageError (phase load) when the module cannot load, leaving no child behind', async () => {
    const e = executor('proc-bad-module', 2);
    const err = (await e.start().catch((x: unknown) => x)) as StageError;
    expect(err).toBeInstanceOf(StageError);
    expect(err.phase).toBe('load');
    expect(err.message).toMatch(/stage "st-proc-bad-module".*failed in load\(\).*deliberate import failure/);
    for (const pid of e.pids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('rejects start() with a StageError (phase setup) when setup throws', async () => {
    const e = executor('proc-fail', 1, { at: 0, how: 'setup' });
    await expect(e.start()).rejects.toThrow(/failed in setup\(\): deliberate setup failure/);
  });
});

describe('process executor: shutdown', () => {
  it('close() lets children finish and exit 0; later calls are no-ops', async () => {
    const e = executor('proc-echo', 2);
    await e.start();
    const pids = e.pids;
    const fatal = jest.fn();
    e.onFatal(fatal);
    await e.process(new OwnedBatch({ seq: 0, batches: [ints([1])] }));
    await e.close();
    await e.close();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    expect(fatal).not.toHaveBeenCalled();
  });

  it('close() escalates to SIGTERM and SIGKILL for a child that does not exit', async () => {
    const e = executor('proc-stubborn', 1, {}, { closeTimeoutMs: 100, killTimeoutMs: 100 });
    await e.start();
    const stuck = e.process(new OwnedBatch({ seq: 0, batches: [ints([1])] })).catch((x: unknown) => x);
    await e.close();
    expect(() => process.kill(e.pids[0], 0)).toThrow(/ESRCH/);
    const err = (await stuck) as WorkerExitError;
    expect(err).toBeInstanceOf(WorkerExitError);
    expect(err.signal).toBe('SIGKILL');
    expect(logLines.some((l) => /SIGTERM/.test(String(l.msg)))).toBe(true);
  });

  it('close() returns only once a child it had to SIGKILL is gone, however late Node hears of its death (a loaded machine)', async () => {
    const e = executor('proc-stubborn', 1, {}, { closeTimeoutMs: 100, killTimeoutMs: 100 });
    await e.start();
    const stuck = e.process(new OwnedBatch({ seq: 0, batches: [ints([1])] })).catch((x: unknown) => x);
    // Main is busy for a while just after the SIGKILL, as on a loaded machine: the child dies at
    // once, but the timers due meanwhile fire before Node reads its exit.
    const kill = ChildProcess.prototype.kill;
    const spy = jest.spyOn(ChildProcess.prototype, 'kill').mockImplementation(function (this: ChildProcess, signal?: NodeJS.Signals | number) {
      const sent = kill.call(this, signal);
      if (signal === 'SIGKILL') setImmediate(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300));
      return sent;
    });
    try {
      await e.close();
    } finally {
      spy.mockRestore();
    }
    expect(() => process.kill(e.pids[0], 0)).toThrow(/ESRCH/);
    expect(((await stuck) as WorkerExitError).signal).toBe('SIGKILL');
  });

  it('abort() kills at once, rejects pending tasks and never throws', async () => {
    const e = executor('proc-stubborn', 2);
    await e.start();
    const pids = e.pids;
    const pending = e.process(new OwnedBatch({ seq: 0, batches: [ints([1])] })).catch((x: unknown) => x);
    await e.abort();
    expect(String(await pending)).toMatch(/AbortedError: run aborted: stage "st-proc-stubborn" was stopped/);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    await e.abort();
  });
});
