/** The same job in DuckDB SQL: day and origin groups, flights, total delay, distinct hashed routes. */
import { DuckDBInstance } from '@duckdb/node-api';

const [input, output] = process.argv.slice(2);
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`
    COPY (
      SELECT strftime(dep_time, '%Y-%m-%d') AS day, origin, count(*)::INTEGER AS flights,
             sum(dep_delay)::DOUBLE AS delay, count(DISTINCT sha256(origin || '-' || dest))::INTEGER AS routes
      FROM read_csv('${input}', header = true, types = {'dep_time': 'TIMESTAMP'})
      GROUP BY ALL ORDER BY ALL
    ) TO '${output}' (FORMAT parquet)`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
