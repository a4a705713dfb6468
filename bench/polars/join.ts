/** Stage 2 (inline): each flight's origin state, by a left join to the airports table (read once, in setup). */
import pl from 'nodejs-polars';
import { defineStage } from 'sluice';

let airports: pl.DataFrame | undefined;

export default defineStage<{ airports: string }>({
  vectorised: true,
  setup(ctx) {
    airports = pl.readCSV(ctx.options.airports, { ignoreErrors: false, dtypes: { iata: pl.String, state: pl.String } }).select(pl.col('iata').alias('origin'), pl.col('state'));
  },
  process(batch, ctx) {
    return ctx.toDataFrame(batch).join(airports!, { on: 'origin', how: 'left' }).select('month', 'state', 'delay');
  },
});
