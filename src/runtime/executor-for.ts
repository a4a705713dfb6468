/** The executor of a planned stage: a user's stage in its mode, or a stage sluice adds (partitioning, Parquet encoding). */
import type { Logger } from 'pino';
import { createExecutor, type StageExecutor } from '../executors';
import { ParquetEncodeExecutor } from '../operators/parquet-encode';
import { PartitionExecutor } from '../operators/partition';
import type { PlannedStage } from '../plan/types';

export function executorFor(stage: PlannedStage, deps: { log: Logger }): StageExecutor {
  if (stage.encode) return new ParquetEncodeExecutor(stage, deps);
  if (stage.partition) return new PartitionExecutor(stage, deps);
  return createExecutor(stage, deps);
}
