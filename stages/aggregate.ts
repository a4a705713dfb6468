/**
 * Aggregate per day, country and currency (process: a stateful stage in its own child
 * process, its memory apart from the engine's). Each batch is reduced natively by polars to
 * partial sums and distinct (group, customer) pairs; flush merges them into the daily totals.
 * Customers are kept as 64-bit hashes of their pseudonyms, 8 bytes instead of 64 (the chance
 * of two of 10 million colliding is about 3 in a million), and the distinct pairs are
 * re-deduplicated only when the new ones outnumber the kept ones, so the work stays linear.
 * Run it with concurrency 1: with more copies each copy would hold a partial result.
 */
import pl from 'nodejs-polars';
import { defineStage } from 'sluice';

const KEYS = ['day', 'country', 'currency'];
/** Deduplicate the accumulated pairs once this many new rows wait (and the new outnumber the kept). */
const COMPACT_ROWS = 1_000_000;

let sums: pl.DataFrame[] = [];
let pairs: pl.DataFrame[] = [];
let keptRows = 0;
let newRows = 0;

const totals = (frames: pl.DataFrame[]) =>
  pl.concat(frames).groupBy(KEYS).agg(pl.col('transactions').sum(), pl.col('settled_amount').sum(), pl.col('refunds').sum());

export default defineStage({
  process(batch, ctx) {
    const df = ctx.toDataFrame(batch);
    sums.push(
      df
        .groupBy(KEYS)
        .agg(
          pl.len().cast(pl.Int64).alias('transactions'),
          pl.col('amount').filter(pl.col('status').eq(pl.lit('settled'))).sum().alias('settled_amount'),
          pl.col('status').eq(pl.lit('refunded')).cast(pl.Int64).sum().alias('refunds'),
        ),
    );
    const distinct = df.select(...KEYS, pl.col('customer_id').hash(1, 2, 3, 4).alias('customer')).unique();
    pairs.push(distinct);
    newRows += distinct.height;
    if (newRows > Math.max(COMPACT_ROWS, keptRows)) {
      pairs = [pl.concat(pairs).unique()];
      keptRows = pairs[0].height;
      newRows = 0;
      sums = [totals(sums)];
    }
    // Nothing to emit per batch: the totals are complete only at the end.
  },
  flush(ctx) {
    if (sums.length === 0) return undefined;
    const customers = pl.concat(pairs).unique().groupBy(KEYS).agg(pl.len().cast(pl.Int32).alias('customers'));
    const result = totals(sums)
      .join(customers, { on: KEYS })
      .select(
        pl.col('day').cast(pl.String).alias('day'),
        pl.col('country'),
        pl.col('currency'),
        pl.col('transactions').cast(pl.Int32),
        pl.col('settled_amount').round(2),
        pl.col('refunds').cast(pl.Int32),
        pl.col('customers'),
      )
      .sort(KEYS);
    ctx.log.info({ groups: result.height }, 'aggregated');
    return result;
  },
});
