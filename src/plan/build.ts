/**
 * Config → plan: absolute paths, defaults filled in, every channel bounded, and the
 * memory bound that follows from those bounds.
 */
import path from 'node:path';
import { CSV_INFER_ROWS, PARQUET_ROW_GROUP_ROWS } from '../config/defaults';
import { NO_PARAMS, type ResolvedParams } from '../config/params';
import type { ChannelConfig, PipelineConfig, SinkConfig, SourceConfig } from '../config/types';
import type { ChannelBounds, Plan, PlannedStage } from './types';

export const DEFAULTS = {
  batchRows: 65_536,
  /** Four batches per channel: enough to keep every copy fed while the neighbour works. */
  capacity: 4,
  /** A byte cap on top, so wide batches cannot multiply memory by four. */
  capacityBytes: 64 * 1024 * 1024,
  concurrency: 1,
  /** Batches a source thread parses ahead: one to hand over at once, one in the making. */
  sourceReadAhead: 2,
} as const;

/** In-flight tasks per copy the executors allow (process mode pipelines two frames). */
export function slotsPerCopy(mode: PlannedStage['mode']): number {
  return mode === 'process' ? 2 : 1;
}

/** `where.params`: resolved by check/ (a config built in code without them has none). */
export function buildPlan(config: PipelineConfig, where: { file: string; baseDir: string; params?: ResolvedParams }): Plan {
  const params = where.params ?? NO_PARAMS;
  const bounds = (c?: ChannelConfig): ChannelBounds => ({
    capacity: c?.capacity ?? config.channel?.capacity ?? DEFAULTS.capacity,
    capacityBytes: c?.capacityBytes ?? config.channel?.capacityBytes ?? DEFAULTS.capacityBytes,
  });
  const resolve = (p: string) => path.resolve(where.baseDir, p);
  const stages: PlannedStage[] = config.stages.map((s) => ({
    name: s.name,
    modulePath: resolve(s.module),
    mode: s.mode,
    copies: s.concurrency ?? DEFAULTS.concurrency,
    options: s.options ?? {},
    params: params.values,
    output: bounds(s.channel),
  }));
  const source = {
    ...config.source,
    // Kept as written: only that part is a glob; the config's directory is read literally.
    baseDir: where.baseDir,
    batchRows: config.source.batchRows ?? DEFAULTS.batchRows,
    thread: config.source.thread ?? sourceThreadByDefault(stages),
  };
  const sourceOutput = bounds();
  const direct = directConversion(source, stages, config.sink);
  return {
    name: config.name,
    configFile: where.file,
    baseDir: where.baseDir,
    source,
    sourceOutput,
    stages,
    sink: { ...config.sink, path: resolve(config.sink.path) },
    ordered: config.ordered ?? true,
    params,
    ...(direct && { direct }),
    memoryBoundBytes: memoryBound(sourceOutput, stages, source.thread ? DEFAULTS.sourceReadAhead : 0),
  };
}

/**
 * A plain CSV → Parquet conversion (no stages, one output file) runs without Arrow in
 * between: each chunk of CSV rows is parsed and encoded as one row group where it is encoded.
 * Types are fixed from the first chunk, so it must hold the `inferRows` rows to infer from.
 */
export function directConversion(source: SourceConfig, stages: PlannedStage[], sink: SinkConfig): Plan['direct'] {
  const rowsPerChunk = sink.rowGroupSize ?? PARQUET_ROW_GROUP_ROWS;
  const eligible =
    stages.length === 0 && source.format === 'csv' && sink.format === 'parquet' && !sink.partitionBy && (source.inferRows ?? CSV_INFER_ROWS) <= rowsPerChunk;
  return eligible ? { rowsPerChunk } : undefined;
}

/**
 * The source gets a thread of its own when the main thread has stage work to do (an inline
 * stage): parsing there would hold up that work and every hand-off. With nothing inline the
 * main thread only coordinates, and parsing there measured faster (no second hop, less memory):
 * 10 M rows CSV → Parquet 8.9 vs 9.5 s.
 */
export function sourceThreadByDefault(stages: PlannedStage[]): boolean {
  return stages.some((s) => s.mode === 'inline');
}

/**
 * Batch bytes the run can hold at once: the source thread's read-ahead, every channel full
 * to its byte cap, plus each in-flight task's input (a task's output is already counted by
 * the reservation it holds in the next channel). A batch larger than a channel's byte cap
 * still moves one at a time, so this bound assumes batches no larger than the byte caps.
 */
export function memoryBound(sourceOutput: ChannelBounds, stages: PlannedStage[], readAhead = 0): number {
  let total = sourceOutput.capacityBytes + readAhead * (sourceOutput.capacityBytes / sourceOutput.capacity);
  let upstream = sourceOutput;
  for (const s of stages) {
    const slots = s.copies * slotsPerCopy(s.mode);
    total += s.output.capacityBytes + Math.min(slots, upstream.capacity) * (upstream.capacityBytes / upstream.capacity);
    upstream = s.output;
  }
  return Math.round(total);
}
