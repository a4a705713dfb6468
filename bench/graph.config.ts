/**
 * The benchmark's nightly job as a graph: the pseudonymised rows partitioned by day (events)
 * and the daily totals, from one read of the input. SLUICE_BENCH_GRAPH=events or =totals keeps
 * one branch (the same stages and sink), to time the two separate runs it replaces.
 */
import { definePipeline } from 'sluice';

const branch = process.env.SLUICE_BENCH_GRAPH ?? 'both';
const out = process.env.SLUICE_BENCH_OUTPUT ?? '/tmp/sluice-bench-graph';
export default definePipeline({
  name: `bench-graph-${branch}`,
  source: { format: 'csv', path: process.env.SLUICE_BENCH_INPUT ?? '../data/transactions.csv', batchRows: 65_536, schema: { customer_id: 'utf8' } },
  stages: [
    { name: 'clean', module: '../stages/clean.ts', mode: 'inline' },
    {
      name: 'pseudonymise',
      module: '../stages/pseudonymise.ts',
      mode: 'thread',
      concurrency: 2,
      options: { salt: 'bench-salt', columns: ['customer_id'], drop: ['email'], algorithm: 'salted-sha256' },
    },
    ...(branch === 'events' ? [] : [{ name: 'aggregate', module: '../stages/aggregate.ts', mode: 'process', concurrency: 1 } as const]),
  ],
  sinks: [
    ...(branch === 'totals' ? [] : [{ name: 'events', from: 'pseudonymise', format: 'parquet' as const, path: `${out}/events`, partitionBy: ['day'] }]),
    ...(branch === 'events' ? [] : [{ name: 'totals', from: 'aggregate', format: 'parquet' as const, path: `${out}/daily_totals.parquet` }]),
  ],
});
