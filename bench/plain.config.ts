/** Plain CSV → Parquet conversion, no stages (the streaming-I/O throughput benchmark). */
import { definePipeline } from 'sluice';

export default definePipeline({
  name: 'bench-plain-convert',
  source: { format: 'csv', path: process.env.SLUICE_BENCH_INPUT ?? '../data/transactions.csv', batchRows: 65_536 },
  stages: [],
  sink: { format: 'parquet', path: process.env.SLUICE_BENCH_OUTPUT ?? '/tmp/sluice-bench-plain.parquet' },
});
