/**
 * Aggregate per day, country and currency (process: a stateful stage in its own child
 * process, its memory apart from the engine's). Each batch is reduced natively by polars to
 * partial sums per group and to the distinct (group, customer) pairs it holds, each kept as
 * one 64-bit hash of the row (16 bytes a pair with its group's hash, instead of the strings;
 * the chance that two of 10 million distinct pairs collide is about 3 in a million). The
 * pairs are re-deduplicated only when the new ones outnumber the kept ones, so the work
 * stays linear; flush counts distinct customers per group and joins them to the totals.
 * Run it with concurrency 1: with more copies each copy would hold a partial result.
 */
import pl from 'nodejs-polars';
import { defineStage } from 'sluice';

const KEYS = ['day', 'country', 'currency'];
/** Deduplicate the accumulated pairs once this many new rows wait (and the new outnumber the kept). */
const COMPACT_ROWS = 1_000_000;
/** Fixed seeds: a group hashes to the same value in every batch and at flush. */
const SEEDS = [11, 23, 37, 41] as const;

let sums: pl.DataFrame[] = [];
let pairs: pl.DataFrame[] = [];
let keptRows = 0;
let newRows = 0;

const groupHash = (df: pl.DataFrame) => df.select(...KEYS).hashRows(...SEEDS).alias('group');
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
    const distinct = pl
      .DataFrame([groupHash(df), df.select(...KEYS, 'customer_id').hashRows(...SEEDS).alias('pair')])
      .unique({ subset: ['pair'] });
    pairs.push(distinct);
    newRows += distinct.height;
    if (newRows > Math.max(COMPACT_ROWS, keptRows)) {
      pairs = [pl.concat(pairs).unique({ subset: ['pair'] })];
      keptRows = pairs[0].height;
      newRows = 0;
      sums = [totals(sums)];
    }
    // Nothing to emit per batch: the totals are complete only at the end.
  },
  flush(ctx) {
    if (sums.length === 0) return undefined;
    const customers = pl
      .concat(pairs)
      .groupBy('group')
      .agg(pl.col('pair').nUnique().cast(pl.Int32).alias('customers'));
    const summed = totals(sums);
    const result = summed
      .withColumns(groupHash(summed))
      .join(customers, { on: 'group' })
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
