/**
 * `sluice/testing`: what a stage test needs. Build batches from rows or columns, run a stage
 * module in any mode through the engine's own executors, compare batches with a readable diff.
 * Importing it registers `expect(…).toEqualBatch(…)` with a global `expect` (jest).
 */
import { registerMatchers } from './matchers';

export { batchFromRows, batchFromColumns } from './build';
export type { Row, ColumnTypes } from './build';
export { rowsOf, sameValue, ExactTime, ExactDecimal } from './values';
export type { BatchesLike } from './values';
export { diffBatches } from './diff';
export type { DiffOptions } from './diff';
export { toEqualBatch, registerMatchers } from './matchers';
export { runStage, startStage } from './harness';
export type { StageTestOptions, StageTestRun, StageTestResult, LogLine, TestReject } from './harness';
export { defineCases } from './cases/define';
export type { PipelineCase, PipelineCases } from './cases/define';

registerMatchers();
