import { definePipeline } from 'sluice';

// Paths are relative to this file. `npx sluice validate` checks it, `npx sluice explain` shows the plan.
export default definePipeline({
  name: 'orders-revenue',
  source: { format: 'csv', path: 'data/orders.csv' },
  // mode: 'inline' (main thread), 'thread' or 'process'; `concurrency: n` runs n copies.
  stages: [{ name: 'revenue', module: './stages/revenue.ts', mode: 'thread' }],
  sink: { format: 'parquet', path: 'out/revenue.parquet' },
});
