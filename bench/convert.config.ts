/** Pass-through CSV → Parquet through a thread stage (the memory benchmark). */
import { definePipeline } from 'sluice';

export default definePipeline({
  name: 'bench-convert',
  source: { format: 'csv', path: process.env.SLUICE_BENCH_INPUT ?? '../data/transactions.csv', batchRows: 65_536 },
  stages: [{ name: 'pass', module: './stages/pass.ts', mode: 'thread' }],
  sink: { format: 'parquet', path: process.env.SLUICE_BENCH_OUTPUT ?? '/tmp/sluice-bench-convert.parquet' },
});
