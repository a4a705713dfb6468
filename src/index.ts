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
  DeadLetterConfig,
  OnError,
} from './config/types';
export { defineStage } from './worker/api';
export type { StageDefinition, StageContext, StageResult, StageParams, RejectRows } from './worker/api';
export type { TableColumn } from './batch/table';
export type { ParamsSpec, ParamSpec, ParamValues, ConfigContext } from './config/params';
export type { PipelineInput } from './config/types';
export * from './errors';

import type { Overrides } from './config/overrides';
import type { RunOptions, RunReport } from './runtime/types';
import type { Plan } from './plan/types';
import type { EarlyStart as EarlyStartT } from './runtime/early-start';
export type { RunOptions, RunReport, ProgressSnapshot, StageMetrics, ChannelMetrics } from './runtime/types';

/**
 * Run a pipeline from code: `await run('pipeline.config.ts', { mode: ['hash=thread'] })`.
 * Resolves with the run report; rejects with a SluiceError (the report attached, see the CLI).
 * The engine is loaded on first use, so stage modules that import `defineStage` stay light.
 */
export async function run(configFile: string, options: RunOptions & Overrides = {}): Promise<RunReport> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { resolveChecked } = require('./check') as typeof import('./check');
  const { buildPlan, withDeclarations } = require('./plan/build') as typeof import('./plan/build');
  const { planWarnings } = require('./plan/warnings') as typeof import('./plan/warnings');
  const { runPlan } = require('./runtime/run') as typeof import('./runtime/run');
  const { EarlyStart } = require('./runtime/early-start') as typeof import('./runtime/early-start');
  const { createRootLogger } = require('./log') as typeof import('./log');
  const { mode, concurrency, sinkPath, sourcePath, set, ...runOptions } = options;
  const log = runOptions.log ?? createRootLogger();
  // Everything knowable before a run is checked first, as `sluice run` does (check/); the
  // stage copies start as soon as the config is valid, beside the slower checks.
  let plan: Plan | undefined;
  let early: EarlyStartT | undefined;
  try {
    const resolved = await resolveChecked(configFile, { mode, concurrency, sinkPath, sourcePath, set }, {
      readErrors: false,
      onConfig: (valid) => {
        plan = buildPlan(valid.config, valid);
        early = EarlyStart.begin(plan, { log });
        return early.launched();
      },
    });
    plan = withDeclarations(plan ?? buildPlan(resolved.config, resolved), resolved);
    for (const w of planWarnings(plan, { sourceColumns: resolved.sourceColumns?.names })) log.warn({ path: w.path }, `${w.path}: ${w.message}`);
  } catch (err) {
    await early?.discard();
    throw err;
  }
  return runPlan(plan, { ...runOptions, log }, early);
}
