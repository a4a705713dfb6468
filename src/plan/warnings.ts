/**
 * Plan settings that work but cost far more than they look: said at the start of `run` and
 * in `explain`, so a slow job is not a mystery. Pure: the plan in, sentences out.
 */
import type { Plan } from './types';

/** Below this many rows, a batch's (or row group's) fixed cost dominates its work. */
export const FEW_ROWS = 1024;

export function planWarnings(plan: Plan): string[] {
  const out: string[] = [];
  const rows = (n: number) => n.toLocaleString('en-US');
  if (plan.source.batchRows < FEW_ROWS && !plan.direct) {
    out.push(
      `source.batchRows is ${rows(plan.source.batchRows)}: every batch pays a fixed cost (a parse call, a hand-off per stage, a sink write; ` +
        `about 10 ms at 1 row, so ~100 rows/s), which batches of fewer than ${rows(FEW_ROWS)} rows do not amortise; the default is 65,536`,
    );
  }
  const group = plan.sink.rowGroupSize;
  if (plan.sink.format === 'parquet' && group !== undefined && group < FEW_ROWS) {
    out.push(
      `sink.rowGroupSize is ${rows(group)}: every Parquet row group is encoded as a file of its own and carries its own metadata, ` +
        `so groups of fewer than ${rows(FEW_ROWS)} rows are slow to write and to read; the default is 262,144`,
    );
  }
  return out;
}
