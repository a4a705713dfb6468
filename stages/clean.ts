/**
 * Parse and clean (inline: cheap, vectorised polars work on the main thread).
 * Drops test transactions, normalises country codes, derives the calendar `day`.
 */
import pl from 'nodejs-polars';
import { defineStage } from 'sluice';

export default defineStage({
  process(batch, ctx) {
    const df = ctx.toDataFrame(batch);
    // The CSV source may infer `ts` as a datetime or leave it text; accept both.
    const ts = df.getColumn('ts').dtype.equals(pl.String)
      ? pl.col('ts').str.strptime(pl.Datetime('ms'), '%Y-%m-%d %H:%M:%S')
      : pl.col('ts');
    return df
      .filter(pl.col('status').neq(pl.lit('test')))
      .withColumns(
        ts.alias('ts'),
        ts.cast(pl.Date).alias('day'),
        pl.col('country').str.strip().str.toUpperCase().alias('country'),
      );
  },
});
