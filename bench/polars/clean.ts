/** The newcomer's polars job, stage 1 (inline): drop flights without a delay or a distance, add the month. */
import pl from 'nodejs-polars';
import { defineStage } from 'sluice';

export default defineStage({
  vectorised: true,
  process(batch, ctx) {
    return ctx
      .toDataFrame(batch)
      .filter(pl.col('delay').isNotNull().and(pl.col('distance').gt(0)))
      .select(pl.col('date').date.month().alias('month'), pl.col('origin'), pl.col('delay'));
  },
});
