/** The same job in DuckDB SQL, partitioned Parquet out. */
import { DuckDBInstance } from '@duckdb/node-api';

const [input, airports, output] = process.argv.slice(2);
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`
    COPY (
      SELECT month(f.date) AS month, a.state, count(f.delay)::UINTEGER AS flights, sum(f.delay) AS delay, sum(f.delay) / count(f.delay) AS mean_delay
      FROM read_parquet('${input}') f
      LEFT JOIN (SELECT iata AS origin, state FROM read_csv('${airports}', types = {'iata': 'VARCHAR', 'state': 'VARCHAR'})) a USING (origin)
      WHERE f.delay IS NOT NULL AND f.distance > 0
      GROUP BY ALL ORDER BY ALL
    ) TO '${output}' (FORMAT parquet, PARTITION_BY (month), OVERWRITE_OR_IGNORE)`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
