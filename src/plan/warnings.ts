/**
 * Settings that are valid but make a run far slower or larger than it needs to be, as
 * warnings with their config path: `explain` and `validate` print them, `run` logs them at
 * start. Each rule is a small pure function of the plan and the facts known before the run
 * (the source's columns); add a rule to RULES to add a warning.
 */
import type { Plan } from './types';

export interface PlanWarning {
  /** Config path of the setting, e.g. `source.batchRows`. */
  path: string;
  message: string;
}

/** What is known about the data before the run, for rules that need more than the plan. */
export interface PlanFacts {
  /** Column names of the source's first file, when the checks could read them. */
  sourceColumns?: readonly string[];
}

export type WarningRule = (plan: Plan, facts: PlanFacts) => PlanWarning[];

/** Below this many rows, a batch's or a row group's fixed cost outweighs its rows. */
export const SMALL_ROWS = 1000;

const rows = (n: number) => `${n.toLocaleString('en-US')} row${n === 1 ? '' : 's'}`;

/**
 * Every batch pays a fixed cost whatever its size: a parse call, a hand-off to each stage,
 * a write. Measured (5 000 CSV rows, one inline stage, NDJSON out): about 1.4 ms a batch,
 * so `batchRows: 1` took 7 s where 1 000 took 0.1 s.
 */
export const smallBatches: WarningRule = (plan) => {
  const n = plan.source.batchRows;
  if (plan.direct || n >= SMALL_ROWS) return []; // a direct conversion does not cut batches
  return [
    {
      path: 'source.batchRows',
      message: `${rows(n)} per batch: every batch pays a fixed cost (about a millisecond: parsing call, hand-offs, write), so the run moves at most about ${rows(n * 1000)}/s; use 10 000 or more (default 65 536)`,
    },
  ];
};

/**
 * Every Parquet row group carries its own metadata and costs an encoder call. Measured
 * (5 000 rows): `rowGroupSize: 1` took 13 s more and wrote a file 140× the size of 1 000.
 */
export const smallRowGroups: WarningRule = (plan) =>
  plan.sinks.flatMap(({ config: sink, where }) => {
    const n = sink.rowGroupSize;
    if (sink.format !== 'parquet' || n === undefined || n >= SMALL_ROWS) return [];
    return [
      {
        path: `${where}.rowGroupSize`,
        message: `${rows(n)} per Parquet row group: each group carries its own metadata and encoder call, so writing is slow and the file many times larger; use 100 000 or more (default 262 144)`,
      },
    ];
  });

/** Past this many columns a CSV source pays more per column than per row. */
export const WIDE_COLUMNS = 2000;

/**
 * Every column of every batch is a polars Series, an Arrow vector and (to Parquet) a column
 * chunk of its own: measured, 10 000 CSV columns × 200 rows took 34 s to CSV and 71 s to
 * Parquet, a few milliseconds per column whatever the rows.
 */
export const wideSource: WarningRule = (plan, facts) => {
  const n = plan.source.columns?.length ?? facts.sourceColumns?.length ?? 0;
  if (n <= WIDE_COLUMNS) return [];
  return [
    {
      path: plan.source.columns ? 'source.columns' : 'source.path',
      message: `${n.toLocaleString('en-US')} columns: every column of every batch costs a few milliseconds (a Series, a vector, a Parquet column chunk), whatever its rows; read only the columns you need (source.columns), or expect minutes`,
    },
  ];
};

/** A `deadLetter` output that no `onError: 'dead-letter'` sends a row to: it would always be empty. */
export const unusedDeadLetter: WarningRule = (plan) => {
  if (!plan.deadLetter || plan.source.onError === 'dead-letter' || plan.stages.some((s) => s.onError === 'dead-letter')) return [];
  return [{ path: 'deadLetter', message: "no `onError: 'dead-letter'` (on the source or a stage) sends rows to it, so it will stay empty; set one, or remove `deadLetter`" }];
};

export const RULES: readonly WarningRule[] = [smallBatches, smallRowGroups, wideSource, unusedDeadLetter];

export function planWarnings(plan: Plan, facts: PlanFacts = {}, rules: readonly WarningRule[] = RULES): PlanWarning[] {
  return rules.flatMap((rule) => rule(plan, facts));
}

/** `⚠ source.batchRows: …`, one line each. */
export function renderWarnings(warnings: readonly PlanWarning[]): string {
  return warnings.map((w) => `⚠ ${w.path}: ${w.message}`).join('\n');
}
