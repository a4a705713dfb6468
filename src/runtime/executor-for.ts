/** The executor of a planned stage: a user's stage in its mode, or a stage sluice adds (Parquet encoding). */
import type { Logger } from 'pino';
import { createExecutor, type StageExecutor } from '../executors';
import { ParquetEncodeExecutor } from '../operators/parquet-encode';
import type { PlannedStage } from '../plan/types';

export function executorFor(stage: PlannedStage, deps: { log: Logger }): StageExecutor {
  return stage.encode ? new ParquetEncodeExecutor(stage, deps) : createExecutor(stage, deps);
}
