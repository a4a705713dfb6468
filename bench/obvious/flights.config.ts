/**
 * The newcomer's job on flight records: the obvious per-row stage in the mode the bench sets
 * (SLUICE_BENCH_MODE, default thread; 2 copies unless inline), then the obvious aggregate inline.
 */
import { definePipeline } from 'sluice';

const mode = (process.env.SLUICE_BENCH_MODE ?? 'thread') as 'inline' | 'thread' | 'process';
// SLUICE_BENCH_OUTPUT_WITH=table: the same stage with its output through ctx.table.
const output = process.env.SLUICE_BENCH_OUTPUT_WITH === 'table' ? 'table' : 'tableFromArrays';

export default definePipeline({
  name: 'bench-obvious-flights',
  source: { format: 'csv', path: process.env.SLUICE_BENCH_INPUT ?? '/tmp/flights.csv' },
  stages: [
    { name: 'flights', module: './flights-stage.ts', mode, concurrency: mode === 'inline' ? 1 : 2, options: { output } },
    // SLUICE_BENCH_DAILY=combine: the aggregate as thread × 2 with a combiner.
    process.env.SLUICE_BENCH_DAILY === 'combine'
      ? { name: 'daily', module: './daily-stage-combine.ts', mode: 'thread', concurrency: 2 }
      : { name: 'daily', module: './daily-stage.ts', mode: 'inline' },
  ],
  sink: { format: 'parquet', path: process.env.SLUICE_BENCH_OUTPUT ?? '/tmp/sluice-bench-obvious.parquet' },
});
