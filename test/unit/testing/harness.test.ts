/**
 * runStage / startStage as a user calls them: through the engine's executors in each mode
 * (really on this thread, in a worker thread, in a child process), with a real ctx, and a
 * fresh module instance per run, so module-level state does not leak from test to test;
 * thread and process output is the test's own memory, readable after the run closed.
 */
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { RecordBatch } from 'apache-arrow';
import { StageError } from 'sluice';
import { batchFromRows, rowsOf, runStage, startStage } from 'sluice/testing';

const STAGES = path.resolve(__dirname, '../../fixtures/stages');
const COUNTER = path.join(STAGES, 'module-counter.ts');
const MODES = ['inline', 'thread', 'process'] as const;
const twoBatches = [
  [{ x: 1 }, { x: 2 }],
  [{ x: 3 }],
];

describe.each(MODES)('%s mode', (mode) => {
  // Two tests in a row on the same module: each sees counts from its own run only.
  it.each([1, 2])('run %i: module state starts fresh; the stage sees a real ctx where it runs; its output, the test\'s own memory, is read after the run closed', async () => {
    const result = await runStage(COUNTER, twoBatches.map((rows) => batchFromRows(rows)), { mode, options: { label: 'L' } });
    const [first, second, flushed] = rowsOf(result);
    expect(result.processed.map((b) => b.length)).toEqual([1, 1]);
    expect(first).toMatchObject({ setups: 1n, calls: 1n, rowsSeen: 2n, mode, stage: 'module-counter', copy: 0n, copies: 1n, label: 'L' });
    expect(second).toMatchObject({ setups: 1n, calls: 2n, rowsSeen: 3n });
    expect(flushed).toMatchObject({ calls: 2n, label: 'flush' });
    // where it ran, as the stage saw it
    const ran = { threadId: Number(first.threadId), pid: Number(first.pid) };
    if (mode === 'inline') expect(ran).toEqual({ threadId, pid: process.pid });
    if (mode === 'thread') expect(ran.threadId).not.toBe(threadId);
    if (mode === 'thread') expect(ran.pid).toBe(process.pid);
    if (mode === 'process') expect(ran.pid).not.toBe(process.pid);
    expect(result.logs).toEqual([expect.objectContaining({ msg: 'flushed', calls: 2, stage: 'module-counter' })]);
    // Thread and process output is the test's own memory (the run has closed and its shared
    // buffers went back to be reused), and readable: checked on this run, not one of its own.
    if (mode !== 'inline') expect(result.batches.flatMap((b) => b.data.children.map((d) => Object.prototype.toString.call(d.values?.buffer)))).not.toContain('[object SharedArrayBuffer]');
  });

  it('params: what the test passes is ctx.params (frozen), as a run gives the config\'s', async () => {
    const params = { day: '2026-11-30', limit: 100, dry: false, region: 'eu' };
    const result = await runStage(path.join(STAGES, 'params-stamp.ts'), [{ x: 1 }], { mode, params });
    expect(rowsOf(result)).toEqual([{ x: 1n, p_day: '2026-11-30', p_limit: 100, p_dry: false, p_region: 'eu', p_names: 'day,limit,dry,region', p_frozen: true, p_mode: mode }]);
  });

  it('startStage: batch by batch, then flush in every copy', async () => {
    const run = await startStage(COUNTER, { mode, copies: 2, name: 'counted' });
    try {
      const out = await run.process([{ x: 1 }]);
      expect(rowsOf(out)).toEqual([expect.objectContaining({ stage: 'counted', copies: 2n, rowsSeen: 1n })]);
      const flushed = rowsOf(await run.flush());
      expect(flushed.map((r) => r.copy).sort()).toEqual([0n, 1n]);
      // Each copy has the module to itself in every mode (inline copies too, as in a run): one process() call, on one copy.
      expect(flushed.map((r) => r.calls).sort()).toEqual([0n, 1n]);
    } finally {
      await run.close();
    }
  });

  it('a failing stage rejects with the StageError a run reports', async () => {
    const failing = runStage(path.join(STAGES, 'e2e-fail.ts'), [batchFromRows([{ x: 1 }])], { mode, options: { at: 0, how: 'throw' } });
    await expect(failing).rejects.toThrow(StageError);
    await expect(failing).rejects.toThrow('stage "e2e-fail", copy 0, batch #0 failed in process(): deliberate failure in e2e-fail');
  });
});

it('inline output is built by the same apache-arrow the test imports (packages stay shared)', async () => {
  const result = await runStage(COUNTER, [{ x: 1 }]);
  // constructor identity: apache-arrow's instanceof accepts batches of any copy (Symbol.hasInstance)
  expect(result.batches[0].constructor).toBe(RecordBatch);
});

it('a module that is not a stage, or no module at all, is refused with what to do', async () => {
  await expect(runStage(path.join(STAGES, 'no-default.ts'), [])).rejects.toThrow(/has no default export; write `export default defineStage/);
  await expect(runStage('no/such/stage.ts', [])).rejects.toThrow(/no stage module at .*no\/such\/stage\.ts \(a relative path is resolved from the working directory .*; pass path\.join\(__dirname, …\) instead\)/);
  await expect(startStage(COUNTER, { mode: 'fiber' as never })).rejects.toThrow('startStage: mode must be inline, thread or process (got "fiber")');
});

it('options a thread cannot receive are refused by name, as in a run', async () => {
  await expect(runStage(COUNTER, [], { mode: 'thread', options: { fn: () => 1 } })).rejects.toThrow(/options\.fn cannot be sent to a thread stage/);
});

