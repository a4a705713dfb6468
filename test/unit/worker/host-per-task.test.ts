/**
 * What a task of a plain JavaScript stage costs the copy that runs it beyond the stage's own
 * call (issue 28: the thread and process hand-offs must not regress): no timer, no extra turn
 * of the event loop (the frame reclaimer's `setImmediate` is for tasks that used polars), so the
 * result goes back as soon as `process` returns. Counted, not timed.
 */
import { tableFromArrays } from 'apache-arrow';
import pino from 'pino';
import { FrameReclaimer } from '../../../src/batch/reclaim';
import type { StageDefinition } from '../../../src/worker/api';
import { StageHost } from '../../../src/worker/host';

afterEach(() => jest.restoreAllMocks());

it.each(['inline', 'thread', 'process'] as const)('a pass-through task in %s mode arms no timer and takes no turn of the event loop', async (mode) => {
  const definition: StageDefinition = { process: (batch) => batch };
  const host = await StageHost.load({ stage: 's', modulePath: '/nowhere/s.ts', options: {}, copy: 0, copies: 1, mode, log: pino({ level: 'silent' }), load: async () => definition });
  const batch = tableFromArrays({ x: new Float64Array([1, 2, 3]) }).batches[0];
  await host.setup();
  const timers = jest.spyOn(global, 'setTimeout');
  const turns = jest.spyOn(global, 'setImmediate');
  const reclaims = jest.spyOn(FrameReclaimer.prototype, 'afterTask');
  for (let i = 0; i < 3; i++) {
    const out = await host.process({ batches: [batch] }, i);
    expect(out.batches).toEqual([batch]);
    out.born.release();
  }
  expect(reclaims).not.toHaveBeenCalled();
  expect(turns).not.toHaveBeenCalled();
  expect(timers).not.toHaveBeenCalled();
});

it('an inline task that used polars is followed by a full collection at once, not after 128 MiB of growth (issue 28)', async () => {
  // Each task's frames are garbage once it ends: a row group's worth on the main thread (batch/reclaim.ts).
  const definition: StageDefinition = { vectorised: true, process: (batch, ctx) => ctx.toDataFrame(batch).head(10) };
  const host = await StageHost.load({ stage: 's', modulePath: '/nowhere/s.ts', options: {}, copy: 0, copies: 1, mode: 'inline', log: pino({ level: 'silent' }), load: async () => definition });
  const batch = tableFromArrays({ x: Float64Array.from({ length: 200_000 }, (_, i) => i) }).batches[0];
  await host.setup();
  const out = await host.process({ batches: [batch] }, 0);
  expect(out.batches.reduce((n, b) => n + b.numRows, 0)).toBe(10);
  out.born.release();
  expect((host as unknown as { reclaimer: FrameReclaimer }).reclaimer.fullCollections).toBe(1);
});
