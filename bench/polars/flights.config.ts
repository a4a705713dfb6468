/**
 * The newcomer's polars-shaped job (issue 28) on the vega-datasets flights: clean, a left join
 * to the airports, a per-month / per-state aggregate with flush, partitioned Parquet out. Every
 * stage inline, in polars. Input and output come from the environment.
 */
import { definePipeline } from 'sluice';

export default definePipeline({
  name: 'bench-polars-flights',
  // SLUICE_BENCH_BATCH_ROWS: rows per batch (default 65 536; the file's row groups hold 272 727).
  source: { format: 'parquet', path: process.env.SLUICE_BENCH_INPUT ?? '/tmp/flights.parquet', ...(process.env.SLUICE_BENCH_BATCH_ROWS && { batchRows: Number(process.env.SLUICE_BENCH_BATCH_ROWS) }) },
  stages: [
    { name: 'clean', module: './clean.ts', mode: 'inline' },
    // SLUICE_BENCH_UNFUSED=1: a timeout on the join alone keeps the three from fusing (plan/fuse.ts), so
    // each DataFrame goes through Arrow between stages, as before inline stages fused (an A/B in one tree).
    { name: 'join', module: './join.ts', mode: 'inline', options: { airports: process.env.SLUICE_BENCH_AIRPORTS ?? '/tmp/airports.csv' }, ...(process.env.SLUICE_BENCH_UNFUSED === '1' && { timeout: '1h' }) },
    { name: 'aggregate', module: './aggregate.ts', mode: 'inline' },
  ],
  sink: { format: 'parquet', path: process.env.SLUICE_BENCH_OUTPUT ?? '/tmp/sluice-bench-polars', partitionBy: ['month'] },
});
