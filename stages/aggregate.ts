/**
 * Aggregate per day, country and currency (a stateful stage: one copy; `process` mode
 * keeps its state out of the engine's heap). Each batch is cut down by polars to the
 * narrow columns the totals need, with every (group, customer) pair as one 64-bit hash
 * (the chance that two of 10 million distinct pairs collide is about 3 in a million).
 * Every million rows or so they are reduced to partial sums per group; the pairs are kept
 * as they come, and deduplicated only when more than 16 million are held and they have
 * doubled since the last time, so the work stays linear and the memory bounded by the
 * distinct pairs (16 bytes each). Deduplicating earlier cost more than the answer: on the
 * 10 M-row bench, where nearly every pair is new, a dedupe per million rows took 13 s of
 * CPU of the whole job's 47. flush counts distinct customers per group and joins them to
 * the totals.
 *
 * The polars expressions are built once, here: nodejs-polars spends ~0.5 ms of JavaScript
 * on every expression node it creates, more than the work on a batch of thousands of rows.
 */
import pl from 'nodejs-polars';
import { defineStage } from 'sluice';

const KEYS = ['day', 'country', 'currency'];
interface Options {
  /** Reduce the waiting rows once this many have accumulated (default 1,000,000). */
  reduceRows?: number;
  /** Deduplicate the held pairs once more than this many are held (default 16,000,000). */
  dedupPairs?: number;
}
/** Fixed seeds: a group hashes to the same value in every batch and at flush. */
const SEEDS = [11, 23, 37, 41] as const;

/** Columns as expressions: `pl.struct` reads bare strings as literals. */
const cols = (names: string[]) => names.map((n) => pl.col(n));
const NARROW = [
  ...cols(KEYS),
  pl.struct(cols(KEYS)).hash(...SEEDS).alias('group'),
  pl.struct(cols([...KEYS, 'customer_id'])).hash(...SEEDS).alias('pair'),
  pl.when(pl.col('status').eq(pl.lit('settled'))).then(pl.col('amount')).otherwise(pl.lit(0)).alias('settled_amount'),
  pl.col('status').eq(pl.lit('refunded')).cast(pl.Int64).alias('refunds'),
];
const PARTIAL_SUMS = [pl.len().cast(pl.Int64).alias('transactions'), pl.col('settled_amount').sum(), pl.col('refunds').sum()];
const MERGED_SUMS = [pl.col('transactions').sum(), pl.col('settled_amount').sum(), pl.col('refunds').sum()];
const GROUP_PAIR = ['group', 'pair'];
const CUSTOMERS = pl.col('pair').nUnique().cast(pl.Int32).alias('customers');
const OUTPUT = [
  pl.col('day').cast(pl.String).alias('day'),
  pl.col('country'),
  pl.col('currency'),
  pl.col('transactions').cast(pl.Int32),
  pl.col('settled_amount').round(2),
  pl.col('refunds').cast(pl.Int32),
  pl.col('customers'),
];

let waiting: pl.DataFrame[] = [];
let waitingRows = 0;
let sums: pl.DataFrame | undefined;
let pairs: pl.DataFrame[] = [];
let heldPairs = 0;
let keptPairs = 0;
let dedupes = 0;

function reduce(dedupPairs: number): void {
  if (waiting.length === 0) return;
  const rows = pl.concat(waiting);
  waiting = [];
  waitingRows = 0;
  const partial = rows.groupBy([...KEYS, 'group']).agg(...PARTIAL_SUMS);
  sums = sums ? pl.concat([sums, partial]).groupBy([...KEYS, 'group']).agg(...MERGED_SUMS) : partial;
  pairs.push(rows.select(...GROUP_PAIR));
  heldPairs += rows.height;
  if (heldPairs > Math.max(dedupPairs, 2 * keptPairs)) {
    pairs = [pl.concat(pairs).unique({ subset: ['pair'] })];
    keptPairs = heldPairs = pairs[0].height;
    dedupes++;
  }
}

export default defineStage<Options>({
  // What `validate` follows the columns through (a partitionBy on the totals is checked).
  outputColumns: () => ['day', 'country', 'currency', 'transactions', 'settled_amount', 'refunds', 'customers'],
  // All it reads (NARROW): the columns nothing reads are left out of the source (projection pushdown).
  reads: () => [...KEYS, 'customer_id', 'status', 'amount'],
  // Its DataFrame shows every column: it selects only those (NARROW) and drops the others.
  passesOnUnlisted: true,
  process(batch, ctx) {
    const narrow = ctx.toDataFrame(batch).select(...NARROW);
    waiting.push(narrow);
    waitingRows += narrow.height;
    if (waitingRows >= (ctx.options.reduceRows ?? 1_000_000)) reduce(ctx.options.dedupPairs ?? 16_000_000);
    // Nothing to emit per batch: the totals are complete only at the end.
  },
  flush(ctx) {
    reduce(Infinity);
    if (!sums) return undefined;
    const customers = pl.concat(pairs).groupBy('group').agg(CUSTOMERS);
    const result = sums.join(customers, { on: 'group' }).select(...OUTPUT).sort(KEYS);
    ctx.log.info({ groups: result.height, dedupes }, 'aggregated');
    return result;
  },
});
