/** The public API of sluice. */
export { definePipeline } from './config/types';
export type {
  PipelineConfig,
  SourceConfig,
  SinkConfig,
  StageConfig,
  StageMode,
  ChannelConfig,
  CsvSourceOptions,
  ColumnTypeName,
} from './config/types';
export { defineStage } from './worker/api';
export type { StageDefinition, StageContext, StageResult } from './worker/api';
export * from './errors';

import type { Overrides } from './config/overrides';
import type { RunOptions, RunReport } from './runtime/types';
export type { RunOptions, RunReport, ProgressSnapshot, StageMetrics, ChannelMetrics } from './runtime/types';

/**
 * Run a pipeline from code: `await run('pipeline.config.ts', { mode: ['hash=thread'] })`.
 * Resolves with the run report; rejects with a SluiceError (the report attached, see the CLI).
 * The engine is loaded on first use, so stage modules that import `defineStage` stay light.
 */
export async function run(configFile: string, options: RunOptions & Overrides = {}): Promise<RunReport> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { resolveConfig } = require('./config') as typeof import('./config');
  const { buildPlan } = require('./plan/build') as typeof import('./plan/build');
  const { runPlan } = require('./runtime/run') as typeof import('./runtime/run');
  const { mode, concurrency, sinkPath, ...runOptions } = options;
  const resolved = await resolveConfig(configFile, { mode, concurrency, sinkPath });
  return runPlan(buildPlan(resolved.config, resolved), runOptions);
}
