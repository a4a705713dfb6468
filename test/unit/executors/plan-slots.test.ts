/**
 * Tasks in flight per copy are decided once, by the plan (defaults.ts SLOTS_PER_COPY →
 * `slotsPerCopy` on each planned stage), and every executor allows exactly that many: the
 * plan's memory bound counts those tasks' inputs, so an executor with a figure of its own
 * would break the bound without a word.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Int32, Table, vectorFromArray } from 'apache-arrow';
import pino from 'pino';
import type { PipelineConfig, StageMode } from '../../../src/config/types';
import { SLOTS_PER_COPY } from '../../../src/defaults';
import { createExecutor, OwnedBatch, type StageExecutor } from '../../../src/executors';
import { buildPlan } from '../../../src/plan/build';
import type { PlannedStage } from '../../../src/plan/types';
import { runPlan } from '../../../src/runtime/run';

const STAGES = path.resolve(__dirname, '../../fixtures/stages');
const log = pino({ level: 'silent' });
const MODES: StageMode[] = ['inline', 'thread', 'process'];

let dir: string;
let started: StageExecutor[] = [];
beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-slots-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(started.map((e) => e.abort()));
  started = [];
});

const config = (copies: number): PipelineConfig => ({
  name: 'slots',
  source: { format: 'csv', path: 'in.csv', batchRows: 50 },
  stages: MODES.map((mode) => ({ name: mode, module: path.join(STAGES, 'proc-echo.ts'), mode, concurrency: copies })),
  sink: { format: 'csv', path: 'out.csv' },
});
const ints = (values: number[]) => new Table({ x: vectorFromArray(values, new Int32()) }).batches[0];

it('the plan gives each stage its mode’s slots per copy, and the executor allows copies × that', () => {
  const plan = buildPlan(config(3), { file: '', baseDir: dir });
  for (const stage of plan.stages) {
    expect(stage.slotsPerCopy).toBe(SLOTS_PER_COPY[stage.mode]);
    expect(createExecutor(stage, { log }).slots).toBe(stage.copies * stage.slotsPerCopy);
  }
});

it('an executor refuses a plan figure it cannot honour rather than run with one of its own', () => {
  const [inline, thread, proc] = buildPlan(config(2), { file: '', baseDir: dir }).stages;
  expect(() => createExecutor({ ...inline, slotsPerCopy: 2 }, { log })).toThrow('the plan gives 2 tasks per inline copy; it must be exactly 1');
  expect(() => createExecutor({ ...thread, slotsPerCopy: 2 }, { log })).toThrow('the plan gives 2 tasks per thread copy; it must be exactly 1');
  expect(() => createExecutor({ ...proc, slotsPerCopy: 0 }, { log })).toThrow('the plan gives 0 tasks per process copy');
});

it('a process copy holds exactly the plan’s tasks at once, whatever the default (counted per copy)', async () => {
  // 3 per copy, not SLOTS_PER_COPY.process (2): the executor must follow the plan.
  const planned: PlannedStage = { ...buildPlan(config(2), { file: '', baseDir: dir }).stages[2], modulePath: path.join(STAGES, 'proc-probe.ts'), slotsPerCopy: 3 };
  expect(SLOTS_PER_COPY.process).not.toBe(3);
  const e = createExecutor(planned, { log });
  started.push(e);
  await e.start();
  // Submitted in one go: no child can answer before the last is placed, so all are in flight at once.
  const tasks = Array.from({ length: 7 }, (_, seq) => e.process(OwnedBatch.plain(seq, [ints([seq])])));
  const settled = await Promise.allSettled(tasks);
  const accepted = settled.filter((s): s is PromiseFulfilledResult<OwnedBatch> => s.status === 'fulfilled').map((s) => s.value);
  expect(accepted.length).toBe(6);
  expect(settled[6]).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ message: expect.stringContaining('more tasks than slots (6)') }) });
  // proc-probe answers with the copy that ran the task: three each, the plan's figure per copy.
  const perCopy = new Map<number, number>();
  for (const out of accepted) {
    const copy = out.batches[0].getChild('copy')!.get(0) as number;
    perCopy.set(copy, (perCopy.get(copy) ?? 0) + 1);
    out.release();
  }
  expect(Object.fromEntries(perCopy)).toEqual({ 0: 3, 1: 3 });
});

it('in a run, no stage ever has more tasks in flight than the plan’s slots', async () => {
  writeFileSync(path.join(dir, 'in.csv'), 'x\n' + Array.from({ length: 2000 }, (_, i) => i).join('\n') + '\n');
  const plan = buildPlan(config(2), { file: '', baseDir: dir });
  const report = await runPlan(plan, { log });
  expect(report.sink.rows).toBe(2000);
  for (const [i, stage] of plan.stages.entries()) {
    expect(report.stages[i]).toMatchObject({ name: stage.name, batchesIn: 40 });
    expect(report.stages[i].peakInFlight).toBeGreaterThanOrEqual(1);
    expect(report.stages[i].peakInFlight).toBeLessThanOrEqual(stage.copies * stage.slotsPerCopy);
  }
}, 60_000);
