/** The same job as one lazy nodejs-polars script: scan → filter → join → group_by → one Parquet file per month. */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import pl from 'nodejs-polars';

const [input, airportsFile, output] = process.argv.slice(2);
const airports = pl.readCSV(airportsFile, { ignoreErrors: false, dtypes: { iata: pl.String, state: pl.String } }).lazy().select(pl.col('iata').alias('origin'), pl.col('state'));
const result = pl
  .scanParquet(input)
  .filter(pl.col('delay').isNotNull().and(pl.col('distance').gt(0)))
  .select(pl.col('date').date.month().alias('month'), pl.col('origin'), pl.col('delay'))
  .join(airports, { on: 'origin', how: 'left' })
  .groupBy(['month', 'state'])
  .agg(pl.col('delay').count().cast(pl.UInt32).alias('flights'), pl.col('delay').sum().alias('delay'))
  .sort(['month', 'state'])
  .withColumns(pl.col('delay').div(pl.col('flights')).alias('mean_delay'))
  .collectSync();
rmSync(output, { recursive: true, force: true });
for (const part of result.partitionBy(['month'], true, true)) {
  const dir = path.join(output, `month=${part.getColumn('month').get(0)}`);
  mkdirSync(dir, { recursive: true });
  part.drop('month').writeParquet(path.join(dir, 'part-0.parquet'));
}
