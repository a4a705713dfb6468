/**
 * Config → plan: absolute paths, defaults filled in, every channel bounded, and the
 * memory bound that follows from those bounds.
 */
import os from 'node:os';
import path from 'node:path';
import { durationMs } from '../config/duration';
import { NO_PARAMS, type ResolvedParams } from '../config/params';
import type { ChannelConfig, PipelineConfig, SinkConfig, SourceConfig } from '../config/types';
import {
  BATCH_ROWS,
  CHANNEL_CAPACITY,
  CHANNEL_CAPACITY_BYTES,
  CSV_INFER_ROWS,
  ORDERED,
  PARQUET_COMPRESSION,
  PARQUET_ENCODER_SLOTS,
  PARQUET_ENCODE_STAGE,
  PARQUET_PENDING_BUDGET_BYTES,
  PARQUET_ROW_GROUP_ROWS,
  PARQUET_MAIN_THREAD_BYTES,
  PARTITION_STAGE,
  SLOTS_PER_COPY,
  SOURCE_READ_AHEAD,
  SOURCE_THREAD_MIN_INPUT_BYTES,
  STAGE_CONCURRENCY,
} from '../defaults';
import { withChainBatchRows } from './chain-batch';
import { coreBudget } from './cores';
import { fuseAdjacent } from './fuse';
import type { ChannelBounds, Plan, PlannedNode, PlannedSink, PlannedStage } from './types';
import { graphOf } from '../config/graph';
import { cutWhere } from './key-split';

/** `where.params`: resolved by check/ (a config built in code without them has none). */
/** `where.inputBytes`: the source files' total size, when the checks measured it (it decides the source thread). */
/** `where.fuse: false`: every stage on its own (explain --profile measures each). */
export function buildPlan(config: PipelineConfig, where: { file: string; baseDir: string; params?: ResolvedParams; inputBytes?: number; fuse?: boolean }): Plan {
  const params = where.params ?? NO_PARAMS;
  const bounds = (c?: ChannelConfig): ChannelBounds => ({
    capacity: c?.capacity ?? config.channel?.capacity ?? CHANNEL_CAPACITY,
    capacityBytes: c?.capacityBytes ?? config.channel?.capacityBytes ?? CHANNEL_CAPACITY_BYTES,
  });
  const resolve = (p: string) => path.resolve(where.baseDir, p);
  const graph = graphOf(config);
  const written: PlannedNode[] = config.stages.map((s, i) => ({
    name: s.name,
    input: graph.stageInputs[i],
    modulePath: resolve(s.module),
    mode: s.mode,
    copies: s.concurrency ?? STAGE_CONCURRENCY,
    // Decided here, once: the memory bound below counts these tasks, and the executor allows them.
    slotsPerCopy: SLOTS_PER_COPY[s.mode],
    options: s.options ?? {},
    params: params.values,
    output: bounds(s.channel),
    ...(s.key && { key: s.key }),
    ...(s.retries && { retries: s.retries }),
    ...(s.timeout !== undefined && { timeoutMs: durationMs(s.timeout) }),
    ...(s.onError && s.onError !== 'fail' && { onError: s.onError }),
  }));
  const readers = (i: number) => graph.stageInputs.filter((n) => n === i).length + graph.sinks.filter((s) => s.from === i).length;
  // Adjacent thread stages with the same copies run in one worker (plan/fuse.ts).
  const fused = where.fuse === false ? { stages: written, at: written.map((_, i) => i) } : fuseAdjacent(written, readers);
  const stages = fused.stages;
  const sinkConfigs = config.sinks ?? [config.sink!];
  const sinks: PlannedSink[] = graph.sinks.map((g, k) => {
    const writes = g.from < 0 ? -1 : fused.at[g.from];
    return { name: g.name, where: g.where, config: { ...sinkConfigs[k], path: resolve(sinkConfigs[k].path) }, from: writes, writes };
  });
  const sourceReaders = graph.stageInputs.filter((n) => n === -1).length + graph.sinks.filter((s) => s.from === -1).length;
  const source = {
    ...config.source,
    // Kept as written: only that part is a glob; the config's directory is read literally.
    baseDir: where.baseDir,
    batchRows: config.source.batchRows ?? BATCH_ROWS,
    thread: config.source.thread ?? sourceThreadByDefault(stages, where.inputBytes),
  };
  // Rows the source cannot read are taken out where it parses (csv/salvage.ts): it must parse, not pass chunks of text on.
  const salvage = (config.source.onError ?? 'fail') !== 'fail';
  const direct = sinks.length === 1 && !salvage ? directConversion(source, stages, sinks[0].config) : undefined;
  // Chunks of CSV text can go to one reader only: the stage that parses them.
  const parseIn = sourceReaders === 1 && stages[0]?.input === -1 && !salvage ? fusedParse(source, stages, config.source.thread) : undefined;
  // A plain conversion, or a source whose first stage parses, has no batches to read ahead:
  // its chunks are cut on the main thread.
  if (direct || parseIn) source.thread = false;
  const readAhead = source.thread ? SOURCE_READ_AHEAD : 0;
  // A plain conversion's chunks are big (a row group of text each) and the encoding stage copies
  // each into a slot of its own at once: one waiting chunk keeps its threads fed.
  const sourceOutput = direct ? { ...bounds(), capacity: 1 } : bounds();
  // The stages sluice adds before each sink: routing rows to partitions, encoding Parquet.
  const userStages = stages.length;
  const own = (name: string, sink: PlannedSink) => (sinks.length === 1 ? name : `${name}:${sink.name}`);
  let encoderBytes = 0;
  for (const sink of sinks) {
    const partition = partitionStage(sink.config, bounds(), params);
    if (partition) {
      stages.push({ ...partition, name: own(partition.name, sink), input: sink.from });
      sink.from = stages.length - 1;
    }
    const encode = encodeStage(sink.config, direct, bounds(), params);
    if (encode) {
      const input = sink.from < 0 ? sourceOutput : stages[sink.from].output;
      stages.push({ ...encode, name: own(encode.name, sink), input: sink.from });
      sink.from = stages.length - 1;
      encoderBytes += encoderMemory(sink.config, input, !!direct);
    }
  }
  // A resumable run's units are input files: a row group may not span two (io/units).
  if (config.resumable) for (const s of stages) if (s.encode) s.encode.units = true;
  const cores = coreBudget(stages, userStages, source, { cores: os.availableParallelism(), polarsEnv: process.env.POLARS_MAX_THREADS });
  // Where each keyed stage's input is cut by key: in its producer when it can be (plan/key-split.ts).
  const readersOf = (p: number) => [...stages.filter((s) => s.input === p), ...sinks.filter((k) => k.from === p).map(() => 'sink' as const)];
  for (const [i, s] of stages.entries()) {
    const cut = cutWhere(s.mode, readersOf(i));
    if (cut?.where === 'producer') s.splitOut = cut.splitOut;
  }
  const sourceCut = cutWhere(source.thread ? 'source thread' : 'source', readersOf(-1));
  return {
    name: config.name,
    configFile: where.file,
    baseDir: where.baseDir,
    source: { ...source, readAhead, ...(sourceCut?.where === 'producer' && { splitOut: sourceCut.splitOut }) },
    sourceOutput,
    stages,
    sinks,
    ordered: config.ordered ?? ORDERED,
    ...(config.deadLetter && { deadLetter: { ...config.deadLetter, path: resolve(config.deadLetter.path) } }),
    ...(config.maxErrors !== undefined && { maxErrors: config.maxErrors }),
    ...(config.resumable && { units: true }),
    params,
    ...(direct && { direct }),
    ...(parseIn && { parseIn }),
    cores,
    memoryBoundBytes: memoryBound(sourceOutput, stages, readAhead, sinks) + parseMemory(parseIn, sourceOutput, stages[0]) + encoderBytes,
  };
}

/**
 * The plan reading only `projection.columns` from its source (projection pushdown: the checks
 * know what each stage reads only once its module loaded, after the plan was made and its
 * copies started, so it is applied to the plan then; nothing else in the plan depends on it).
 */
export function withProjection(plan: Plan, projection: Plan['projection']): Plan {
  if (!projection) return plan;
  return { ...plan, source: { ...plan.source, columns: projection.columns }, projection };
}

/**
 * The plan as the checks' knowledge of the stage modules makes it: the source's columns
 * (withProjection) and its batch size for a vectorised chain (plan/chain-batch.ts).
 */
export function withDeclarations(plan: Plan, checked: Parameters<typeof withChainBatchRows>[1] & { projection?: Plan['projection'] }): Plan {
  return withChainBatchRows(withProjection(plan, checked.projection), checked);
}

/**
 * The stage sluice adds before a partitioned sink (operators/partition.ts): each batch's rows
 * routed to their partitions, on the main thread (one vectorised polars split per batch).
 */
export function partitionStage(sink: SinkConfig, output: ChannelBounds, params: ResolvedParams): Omit<PlannedStage, 'input'> | undefined {
  if (!sink.partitionBy) return undefined;
  return { name: PARTITION_STAGE, modulePath: '', mode: 'inline', copies: 1, slotsPerCopy: SLOTS_PER_COPY.inline, options: {}, params: params.values, output, partition: { columns: sink.partitionBy } };
}

/**
 * The stage sluice adds before a Parquet sink (operators/parquet-encode.ts): the sink's input
 * (each partition's apart, when partitioned) cut into row groups and encoded on threads of its
 * own, one per core beyond the first (at most 4: on this project's 2-core machine a second made
 * conversions 3–10 % slower, both cores being busy already), or, for a plain conversion, CSV
 * chunks parsed and encoded on one thread per core (parsing is most of that work).
 */
export function encodeStage(sink: SinkConfig, direct: Plan['direct'], output: ChannelBounds, params: ResolvedParams): Omit<PlannedStage, 'input'> | undefined {
  if (sink.format !== 'parquet') return undefined;
  const cores = os.availableParallelism();
  const copies = direct ? cores : Math.max(1, Math.min(4, cores - 1));
  return {
    name: PARQUET_ENCODE_STAGE,
    modulePath: '',
    mode: 'thread',
    copies,
    // The encoder's slots, shared by its threads: batches in flight to be encoded.
    slotsPerCopy: Math.max(1, Math.ceil(PARQUET_ENCODER_SLOTS / copies)),
    options: {},
    params: params.values,
    output,
    // A conversion's threads parse as well as encode: they start at once. Batches: a small output (an aggregate's rows) is encoded on the main thread.
    encode: { input: direct ? 'csv' : 'batches', rowGroupSize: sink.rowGroupSize ?? PARQUET_ROW_GROUP_ROWS, compression: sink.compression ?? PARQUET_COMPRESSION, target: sink.path, partitioned: !!sink.partitionBy, ...(!direct && { mainThreadBytes: PARQUET_MAIN_THREAD_BYTES }) },
  };
}

/**
 * A plain CSV → Parquet conversion (no stages, one output file) runs without Arrow in
 * between: each chunk of CSV rows is parsed and encoded as one row group by the encoding
 * stage. Types are fixed from the first chunk, so it must hold the `inferRows` rows to infer from.
 */
export function directConversion(source: SourceConfig, stages: PlannedStage[], sink: SinkConfig): Plan['direct'] {
  const rowsPerChunk = sink.rowGroupSize ?? PARQUET_ROW_GROUP_ROWS;
  const eligible =
    stages.length === 0 && source.format === 'csv' && sink.format === 'parquet' && !sink.partitionBy && (source.inferRows ?? CSV_INFER_ROWS) <= rowsPerChunk;
  return eligible ? { rowsPerChunk } : undefined;
}

/**
 * Fusion of parsing into the first stage: when a CSV source feeds a thread stage, each of its
 * copies parses the chunks it is given before it runs the stage, so a `thread × N` pipeline
 * parses on N cores, with no source thread and no parsed batch crossing threads (Ray Data and
 * Spark run a read and the maps after it in one task the same way). The main thread only cuts
 * checked chunks of whole rows. `source.thread: true`, said in the config, keeps parsing on a
 * thread of its own. Each chunk is one batch, so it must hold the rows the types are inferred from.
 */
export function fusedParse(source: SourceConfig & { batchRows: number }, stages: PlannedStage[], threadAsked: boolean | undefined): Plan['parseIn'] {
  const first = stages[0];
  // A keyed stage routes parsed rows by their key before its copies see them: its copies cannot parse.
  const keyed = !!first?.key && first.copies > 1;
  // A stage with onError has a batch it threw on run again in parts, cut by rows (runtime/bisect.ts):
  // a chunk of CSV text is one value, not its rows, so the whole chunk would be rejected as one row.
  const eligible = source.format === 'csv' && first?.mode === 'thread' && !keyed && !first.onError && threadAsked !== true && (source.inferRows ?? CSV_INFER_ROWS) <= source.batchRows;
  return eligible ? { stage: first.name, rowsPerChunk: source.batchRows } : undefined;
}

/** A stage that parses in its copies holds, per task, the batch it parsed beside the chunk of text it was given. */
export function parseMemory(parseIn: Plan['parseIn'], sourceOutput: ChannelBounds, first: PlannedStage | undefined): number {
  if (!parseIn || !first) return 0;
  return Math.round(first.copies * first.slotsPerCopy * (sourceOutput.capacityBytes / sourceOutput.capacity));
}

/**
 * The source gets a thread of its own when the main thread has stage work to do (an inline
 * stage): parsing there would hold up that work and every hand-off. With nothing inline the
 * main thread only coordinates, and parsing there measured faster (no second hop, less memory):
 * 10 M rows CSV → Parquet 8.9 vs 9.5 s. A small input is read on the main thread anyway
 * (SOURCE_THREAD_MIN_INPUT_BYTES): starting the thread costs more than it saves.
 */
export function sourceThreadByDefault(stages: PlannedStage[], inputBytes?: number): boolean {
  if (inputBytes !== undefined && inputBytes < SOURCE_THREAD_MIN_INPUT_BYTES) return false;
  return stages.some((s) => s.mode === 'inline');
}

/**
 * What Parquet encoding holds besides the channels and the tasks in flight (a task's input is
 * released once its bytes are copied into the encoder's slots): its batch slots, each one item
 * of its input channel, and the rows waiting in its threads for a full row group (the pending
 * budget; none in a plain conversion, where a chunk is a row group), partitioned or not.
 * Nothing for the other sinks, which write each batch as it comes.
 */
export function encoderMemory(sink: SinkConfig, input: ChannelBounds, direct = false): number {
  if (sink.format !== 'parquet') return 0;
  return (direct ? 0 : PARQUET_PENDING_BUDGET_BYTES) + Math.round(PARQUET_ENCODER_SLOTS * (input.capacityBytes / input.capacity));
}

/**
 * Batch bytes the run can hold at once: the source thread's read-ahead, every channel full
 * to its byte cap (one channel per reader: a stage read by two stages fills two), plus each
 * in-flight task's input (a task's output is already counted by the reservation it holds in
 * the next channel). A batch larger than a channel's byte cap still moves one at a time, so
 * this bound assumes batches no larger than the byte caps. A batch shared by several readers
 * is one piece of memory counted in each of their channels: the bound is an upper one.
 */
export function memoryBound(sourceOutput: ChannelBounds, stages: readonly Pick<PlannedNode, 'input' | 'copies' | 'slotsPerCopy' | 'output'>[], readAhead = 0, sinks: readonly Pick<PlannedSink, 'from'>[] = [{ from: stages.length - 1 }]): number {
  const outputOf = (i: number) => (i < 0 ? sourceOutput : stages[i].output);
  const readers = (i: number) => stages.filter((s) => s.input === i).length + sinks.filter((s) => s.from === i).length;
  let total = readAhead * (sourceOutput.capacityBytes / sourceOutput.capacity) + sourceOutput.capacityBytes * readers(-1);
  stages.forEach((s, i) => {
    const upstream = outputOf(s.input);
    const slots = s.copies * s.slotsPerCopy;
    total += s.output.capacityBytes * readers(i) + Math.min(slots, upstream.capacity) * (upstream.capacityBytes / upstream.capacity);
  });
  return Math.round(total);
}
