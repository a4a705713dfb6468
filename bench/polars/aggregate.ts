/**
 * Stage 3 (inline, with flush): flights and delay per month and state. Each batch is reduced to
 * its partial sums at once (a group_by per batch), the partials merged at flush: the state is
 * the groups, not the rows. SLUICE_BENCH_AGG=frames keeps every batch's rows instead and groups
 * them all at flush (what the newcomer wrote; its peak memory grows with the input).
 */
import pl from 'nodejs-polars';
import { defineStage } from 'sluice';

const partialsOnly = process.env.SLUICE_BENCH_AGG !== 'frames';
let kept: pl.DataFrame[] = [];

const partial = (df: pl.DataFrame) => df.groupBy(['month', 'state']).agg(pl.col('delay').count().alias('flights'), pl.col('delay').sum().alias('delay'));

export default defineStage({
  vectorised: true,
  process(batch, ctx) {
    const df = ctx.toDataFrame(batch);
    kept.push(partialsOnly ? partial(df) : df.select('month', 'state', pl.col('delay').cast(pl.Int64)).withColumns(pl.lit(1).cast(pl.UInt32).alias('flights')));
    // A few hundred partials merged into one now and then: the state stays a few thousand rows.
    if (partialsOnly && kept.length >= 64) kept = [merge(kept)];
    return null;
  },
  flush() {
    const out = merge(kept).sort(['month', 'state']);
    kept = [];
    return out.withColumns(pl.col('delay').div(pl.col('flights')).alias('mean_delay'));
  },
});

function merge(frames: pl.DataFrame[]): pl.DataFrame {
  if (frames.length === 0) return pl.DataFrame({ month: [], state: [], flights: [], delay: [] });
  return pl
    .concat(frames)
    .groupBy(['month', 'state'])
    .agg(pl.col('flights').sum().cast(pl.UInt32).alias('flights'), pl.col('delay').sum().alias('delay'));
}
