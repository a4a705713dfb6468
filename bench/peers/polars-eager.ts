/** The nightly job with nodejs-polars, eagerly (readCSV of the whole file, then writeParquet). */
import { createHash } from 'node:crypto';
import pl from 'nodejs-polars';

const [input, output, salt] = process.argv.slice(2);
const df = pl.readCSV(input, { dtypes: { customer_id: pl.String, ts: pl.String }, ignoreErrors: false });
// polars has no sha256 expression in 0.24.1: hash in JS over the column, like a user would.
const ids = df.getColumn('customer_id').toArray() as string[];
const pseudonym = pl.Series('pseudonym', ids.map((v) => createHash('sha256').update(salt + v).digest('hex')));
df.withColumn(pseudonym)
  .filter(pl.col('status').neq(pl.lit('test')))
  .withColumns(pl.col('ts').str.slice(0, 10).alias('day'), pl.col('country').str.strip().str.toUpperCase().alias('country'))
  .groupBy(['day', 'country', 'currency'])
  .agg(
    pl.len().cast(pl.Int32).alias('transactions'),
    pl.col('amount').filter(pl.col('status').eq(pl.lit('settled'))).sum().round(2).alias('settled_amount'),
    pl.col('status').eq(pl.lit('refunded')).cast(pl.Int32).sum().alias('refunds'),
    pl.col('pseudonym').nUnique().cast(pl.Int32).alias('customers'),
  )
  .sort(['day', 'country', 'currency'])
  .writeParquet(output, { compression: 'zstd' });
