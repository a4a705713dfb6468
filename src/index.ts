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
