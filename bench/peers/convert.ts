/** CSV → Parquet with a peer: `duckdb` (COPY … TO … (FORMAT parquet)) or `polars` (eager readCSV().writeParquet()). */
import { DuckDBInstance } from '@duckdb/node-api';
import pl from 'nodejs-polars';

const [peer, input, output] = process.argv.slice(2);
(async () => {
  if (peer === 'duckdb') {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`COPY (SELECT * FROM read_csv('${input}', header = true, types = {'customer_id': 'VARCHAR'})) TO '${output}' (FORMAT parquet, COMPRESSION zstd)`);
  } else {
    pl.readCSV(input, { dtypes: { customer_id: pl.String }, ignoreErrors: false }).writeParquet(output, { compression: 'zstd' });
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
