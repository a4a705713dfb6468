/**
 * The executor contract with retries (executors/types.ts): the executor owns its input and
 * releases it exactly once, after success or after the last attempt, never before a retry
 * that still reads it; and a fused group retries as its group (plan/fuse.ts: a death loses
 * the batch in every member, so the whole chain runs again on the replacement).
 *
 * Cells: {thread, process} × {answered on the retry, every attempt dies}, and a fused thread
 * group (a member that adds a column before the one that dies) both ways: 6 cells, each a few copies
 * started, seconds in all. "The first time" is a marker file (fault-once.ts): no timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { tableFromArrays } from 'apache-arrow';
import { OwnedBatch } from '../../../src/batch/owned';
import { WorkerExitError } from '../../../src/errors';
import { ProcessExecutor } from '../../../src/executors/process';
import { ThreadExecutor } from '../../../src/executors/thread';
import type { StageExecutor } from '../../../src/executors/types';
import type { PlannedStage } from '../../../src/plan/types';

const STAGES = path.resolve(__dirname, '../../fixtures/stages');
const log = pino({ level: 'silent' });
let dir: string;
let n = 0;
let executor: StageExecutor | undefined;
beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-retry-contract-'))));
afterEach(async () => {
  await executor?.abort();
  executor = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Kind = 'thread' | 'process' | 'fused';

function make(kind: Kind, always: boolean): StageExecutor {
  const flaky = { name: 'flaky', modulePath: path.join(STAGES, 'fault-once.ts'), options: { firstId: 100, how: 'exit', marker: path.join(dir, `m${n++}`), always } };
  const base = { mode: kind === 'process' ? 'process' : 'thread', copies: 1, slotsPerCopy: 1, output: { capacity: 4, capacityBytes: 1 << 24 }, retries: 1 } as const;
  if (kind === 'fused') {
    // The first member adds a column: the retry's output has it only if the whole group ran again.
    const pass = { name: 'pass', modulePath: path.join(STAGES, 'tag.ts'), options: { tag: 't' } };
    const planned: PlannedStage = { ...base, name: 'pass+flaky', modulePath: pass.modulePath, options: {}, fused: [pass, flaky] };
    return new ThreadExecutor(planned, { log });
  }
  const planned: PlannedStage = { ...base, ...flaky };
  return kind === 'process' ? new ProcessExecutor(planned, { log }) : new ThreadExecutor(planned, { log });
}

/** Batch #7: ids 100…109; its lease counts releases and notes how many attempts had been sent again by then. */
function input(e: StageExecutor): { batch: OwnedBatch; releases: number[] } {
  const releases: number[] = [];
  const table = tableFromArrays({ id: Int32Array.from({ length: 10 }, (_, i) => 100 + i) });
  const batch = new OwnedBatch({ seq: 7, batches: table.batches, lease: { release: () => releases.push(e.retries?.()?.retried ?? 0) } });
  return { batch, releases };
}

describe.each<Kind>(['thread', 'process', 'fused'])('%s stage, retries: 1', (kind) => {
  it('a copy that dies on the batch once: the retry answers; the input is released once, after it', async () => {
    executor = make(kind, false);
    await executor.start();
    const { batch, releases } = input(executor);
    const out = await executor.process(batch);
    expect(out.rows).toBe(10);
    expect(out.batches.flatMap((b) => [...b.getChild('id')!.toArray()])).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
    if (kind === 'fused') expect([...out.batches[0].getChild('tag')!.toArray()]).toEqual(Array.from({ length: 10 }, () => 't@pass'));
    out.release();
    // Released once, and only after the retry had been sent: the retry read it whole.
    expect(releases).toEqual([1]);
    expect(executor.retries?.()).toMatchObject({ retried: 1, replaced: 1, batches: [7] });
  });

  it('a batch that kills its copy every time: the run fails naming the stage that died and the batch, after 2 attempts; the input released once, after the last', async () => {
    executor = make(kind, true);
    await executor.start();
    const { batch, releases } = input(executor);
    const err = await executor.process(batch).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerExitError);
    // A fused group names the member that died, not the group.
    expect((err as WorkerExitError).location).toMatchObject({ stage: 'flaky', seq: 7 });
    expect((err as Error).message).toMatch(/batch #7: worker exited with code 7: after 2 attempts/);
    expect(releases).toEqual([1]);
  });
});
