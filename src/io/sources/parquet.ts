/**
 * Parquet, one row group at a time: the footer gives the row-group layout, polars reads
 * exactly one group (slice pushdown), and a group larger than `batchRows` is split.
 */
import pl from 'nodejs-polars';
import { SourceError } from '../../errors';
import { polarsToBatches, type BatchWithLease } from './arrow-convert';
import { readRowGroups } from '../parquet/footer';

/** Row groups decoded and not yet fully handed on, now and at most (asserted in tests). */
export const rowGroupGauge = { current: 0, peak: 0 };

export async function* readParquet(file: string, o: { batchRows: number; columns?: string[] }): AsyncGenerator<BatchWithLease> {
  const groups = await readRowGroups(file);
  for (const group of groups) {
    let scan = pl.scanParquet(file);
    if (o.columns) scan = scan.select(...o.columns);
    let df: pl.DataFrame;
    try {
      df = await scan.slice(group.offset, group.rows).collect();
    } catch (err) {
      throw new SourceError(`cannot read row group at row ${group.offset}: ${(err as Error).message}`, { file }, err);
    }
    rowGroupGauge.current++;
    rowGroupGauge.peak = Math.max(rowGroupGauge.peak, rowGroupGauge.current);
    try {
      yield* polarsToBatches(df, o.batchRows);
    } finally {
      rowGroupGauge.current--;
    }
  }
}
