/** The nightly job in DuckDB SQL (the same work: salted sha256 pseudonyms, same groups). */
import { DuckDBInstance } from '@duckdb/node-api';

const [input, output, salt] = process.argv.slice(2);
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`
    COPY (
      SELECT day, country, currency,
             count(*)::INTEGER AS transactions,
             round(sum(CASE WHEN status = 'settled' THEN amount ELSE 0 END), 2) AS settled_amount,
             sum(CASE WHEN status = 'refunded' THEN 1 ELSE 0 END)::INTEGER AS refunds,
             count(DISTINCT pseudonym)::INTEGER AS customers
      FROM (
        SELECT strftime(ts, '%Y-%m-%d') AS day, upper(trim(country)) AS country, currency, status, amount,
               sha256('${salt}' || customer_id) AS pseudonym
        FROM read_csv('${input}', header = true, types = {'customer_id': 'VARCHAR', 'ts': 'TIMESTAMP'})
        WHERE status <> 'test'
      )
      GROUP BY ALL ORDER BY ALL
    ) TO '${output}' (FORMAT parquet, COMPRESSION zstd)`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
