/**
 * `sluice explain --profile`: run a few real batches through each stage and measure what
 * the choice of mode depends on: the stage's cost per batch (inline, after a warm-up), how
 * many cores it already keeps busy by itself (CPU time / wall time), and what a hand-off of
 * such a batch costs to a thread and to a child process. `plan/advice.ts` turns that into
 * a recommended mode and concurrency.
 */
import os from 'node:os';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import { SLOTS_PER_COPY } from '../defaults';
import { InlineExecutor } from '../executors/inline';
import { ProcessExecutor } from '../executors/process';
import { ThreadExecutor } from '../executors/thread';
import { watchStall } from '../executors/stall';
import { OwnedBatch, type StageExecutor } from '../executors/types';
import { byteSizeOf } from '../batch/owned';
import { conversions } from '../batch/polars';
import { openSource } from '../io/sources';
import { advise, type Advice, type StageCost } from '../plan/advice';
import type { Plan, PlannedStage } from '../plan/types';
import { leftOutPerStage } from '../plan/left-out';

export interface StageProfile extends StageCost {
  name: string;
  mode: PlannedStage['mode'];
  copies: number;
  rowsPerBatch: number;
  bytesPerBatch: number;
  advice: Advice;
}

export interface PipelineProfile {
  batches: number;
  sourceMsPerBatch: number;
  cores: number;
  stages: StageProfile[];
}

// `.ts` from source, `.js` built (see loader.ts).
const PASSTHROUGH = path.join(__dirname, '..', 'worker', `passthrough${path.extname(__filename)}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;

/** Median wall ms per call over `inputs`, the first call being a warm-up; plus CPU/wall. */
async function timeBatches(run: (b: RecordBatch, i: number) => Promise<RecordBatch[]>, inputs: RecordBatch[]) {
  const outputs: RecordBatch[] = [];
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const conversions0 = conversions.count;
  let wall = 0;
  for (const [i, batch] of inputs.entries()) {
    const t = performance.now();
    outputs.push(...(await run(batch, i)));
    const dt = performance.now() - t;
    if (i > 0 || inputs.length === 1) times.push(dt);
    wall += dt;
  }
  const cpu = process.cpuUsage(cpu0);
  return { ms: median(times), cpuPerWall: (cpu.user + cpu.system) / 1000 / Math.max(wall, 0.001), usesPolars: conversions.count !== conversions0, outputs };
}

async function handoffMs(executor: StageExecutor, batch: RecordBatch): Promise<number> {
  await executor.start();
  try {
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t = performance.now();
      const out = await executor.process(OwnedBatch.plain(i, [batch]));
      times.push(performance.now() - t);
      out.release();
    }
    return median(times.slice(1));
  } finally {
    await executor.abort();
  }
}

export async function profilePlan(plan: Plan, opts: { log: Logger; batches?: number }): Promise<PipelineProfile> {
  const want = opts.batches ?? 4;
  const source = await openSource(plan.source, { log: opts.log });
  const samples: RecordBatch[] = [];
  const readTimes: number[] = [];
  const read: OwnedBatch[] = [];
  const reader = source.batches();
  for (let i = 0; i < want; i++) {
    const t = performance.now();
    const r = await reader.next();
    if (r.done) break;
    readTimes.push(performance.now() - t);
    read.push(r.value);
    samples.push(r.value.batch);
  }
  await reader.return(undefined);
  await source.close();
  // A stage promise that never settles: Node runs out of work and would exit 0 without a profile.
  const at = { now: 'start-up' };
  const stall = watchStall(() => at.now, 'the profile');
  try {
    return await Promise.race([profileStages(plan, opts, samples, readTimes, at), stall.stalled]);
  } finally {
    stall.dispose();
    for (const owned of read) owned.release();
  }
}

/** `at.now`: what the profile waits on, for a stall's message. */
async function profileStages(plan: Plan, opts: { log: Logger }, samples: RecordBatch[], readTimes: number[], at: { now: string }): Promise<PipelineProfile> {
  // The first read also fixes the schema (inference): it is not a typical batch.
  const sourceMsPerBatch = median(readTimes.length > 1 ? readTimes.slice(1) : readTimes);
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const stages: StageProfile[] = [];
  const leftOut = leftOutPerStage(plan);
  for (const stage of plan.stages) {
    // The stages a user wrote; sluice's own (Parquet encoding) has no module to try in other modes.
    if (samples.length === 0 || stage.encode) break;
    // One copy of the stage in each mode tried, with that mode's slots (the plan's figure for it).
    const as = (mode: PlannedStage['mode'], over: Partial<PlannedStage> = {}): PlannedStage => ({ ...stage, ...over, mode, copies: 1, slotsPerCopy: SLOTS_PER_COPY[mode] });
    const inline = new InlineExecutor(as('inline'), { log: opts.log });
    at.now = `stage "${stage.name}" (inline) in setup()`;
    await inline.start();
    inline.leaveOut(leftOut[plan.stages.indexOf(stage)] ?? []);
    // The outputs feed the next stage's sample: their memory is left to the collector.
    const measured = await timeBatches(async (b, i) => {
      at.now = `stage "${stage.name}" (inline) on batch #${i}`;
      return (await inline.process(OwnedBatch.plain(i, [b]))).batches;
    }, samples);
    at.now = `stage "${stage.name}": its hand-off times`;
    const probe = samples[samples.length - 1];
    const threadHandoffMs = await handoffMs(new ThreadExecutor(as('thread', { modulePath: PASSTHROUGH }), { log: opts.log }), probe);
    const processHandoffMs = await handoffMs(new ProcessExecutor(as('process', { modulePath: PASSTHROUGH }), { log: opts.log }), probe);
    // Does the stage itself load and run in a worker thread (native addons may not)?
    const trial = new ThreadExecutor(as('thread'), { log: opts.log });
    const threadSafe = await trial.start().then(
      () => true,
      () => false,
    );
    await trial.abort();
    // A keyed stage's copies each hold the whole state of their keys: it may have several.
    const cost: StageCost = { msPerBatch: measured.ms, cpuPerWall: measured.cpuPerWall, usesPolars: measured.usesPolars, threadHandoffMs, processHandoffMs, stateful: inline.stateful && !stage.key?.length, threadSafe };
    stages.push({
      ...cost,
      name: stage.name,
      mode: stage.mode,
      copies: stage.copies,
      rowsPerBatch: Math.round(samples.reduce((n, b) => n + b.numRows, 0) / samples.length),
      bytesPerBatch: Math.round(byteSizeOf(samples) / samples.length),
      advice: advise(cost, { sourceMsPerBatch, cores }),
    });
    samples = measured.outputs;
  }
  return { batches: readTimes.length, sourceMsPerBatch, cores, stages };
}
