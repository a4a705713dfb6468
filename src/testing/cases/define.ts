/**
 * Fixture cases declared beside a pipeline, run by `sluice test`: `pipeline.config.ts` is
 * tested by `pipeline.cases.ts` (or `.json`) in the same folder.
 */
import type { ColumnTypeName } from '../../config/types';
import type { Row } from '../build';

export interface PipelineCase {
  /** What the case checks; shown in the report. */
  name: string;
  /** One stage by its name in the config, alone. Omit to run the whole pipeline: every stage in order. */
  stage?: string;
  /** Input rows: one batch, or batches of `batchRows` rows. */
  input: Row[];
  batchRows?: number;
  /** Input column types (the names of a source `schema`); default: the source's `schema`, else inferred. */
  types?: Record<string, ColumnTypeName>;
  /** The rows expected out of the stage (or the last stage), compared as README "Testing your stages" says. */
  expected: Row[];
  /** Compare rows in order (default), or as a multiset when order does not matter. */
  ordered?: boolean;
  /** Replaces the stage's `options` from the config (stage cases only). */
  options?: Record<string, unknown>;
}

export type PipelineCases = PipelineCase[];

/** Identity function that exists for its types: `export default defineCases([{ … }])`. */
export function defineCases(cases: PipelineCases): PipelineCases {
  return cases;
}
