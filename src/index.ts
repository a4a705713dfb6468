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
export type { StageDefinition, StageContext, StageResult, StageParams } from './worker/api';
export type { ParamsSpec, ParamSpec, ParamValues, ConfigContext } from './config/params';
export type { PipelineInput } from './config/types';
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
  const { resolveChecked } = require('./check') as typeof import('./check');
  const { buildPlan } = require('./plan/build') as typeof import('./plan/build');
  const { planWarnings } = require('./plan/warnings') as typeof import('./plan/warnings');
  const { runPlan } = require('./runtime/run') as typeof import('./runtime/run');
  const { createRootLogger } = require('./log') as typeof import('./log');
  const { mode, concurrency, sinkPath, sourcePath, set, ...runOptions } = options;
  // Everything knowable before a run is checked first, as `sluice run` does (check/).
  const resolved = await resolveChecked(configFile, { mode, concurrency, sinkPath, sourcePath, set }, { readErrors: false });
  const plan = buildPlan(resolved.config, resolved);
  const log = runOptions.log ?? createRootLogger();
  for (const w of planWarnings(plan, { sourceColumns: resolved.sourceColumns?.names })) log.warn({ path: w.path }, `${w.path}: ${w.message}`);
  return runPlan(plan, { ...runOptions, log });
}
