/**
 * The example nightly job: card transactions → cleaned → pseudonymised → daily totals.
 * Run it with `npm start` (= `sluice run pipeline.config.ts`).
 */
import { definePipeline } from 'sluice';

export default definePipeline({
  name: 'nightly-transactions',
  source: { format: 'csv', path: 'data/transactions.csv', batchRows: 4096 },
  stages: [
    // Cheap vectorised polars work: stays on the main thread.
    { name: 'clean', module: './stages/clean.ts', mode: 'inline' },
    // Per-row HMAC in JS: CPU-bound, spread over two worker threads (zero-copy hand-off).
    {
      name: 'pseudonymise',
      module: './stages/pseudonymise.ts',
      mode: 'thread',
      concurrency: 2,
      options: { salt: 'example-salt-change-me', columns: ['customer_id'], drop: ['email'] },
    },
    // Stateful totals in a child process (isolated memory; Arrow IPC over a pipe).
    { name: 'aggregate', module: './stages/aggregate.ts', mode: 'process', concurrency: 1 },
  ],
  sink: { format: 'parquet', path: 'out/daily_totals.parquet' },
});
