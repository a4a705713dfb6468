/** The CPU-bound benchmark's pipeline: one stage over a string column, its mode and copies from the environment. */
import { definePipeline } from 'sluice';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`bench/cpu.config.ts needs ${name}`);
  return value;
};

export default definePipeline({
  name: 'bench-cpu',
  source: { format: 'arrow', path: env('SLUICE_BENCH_INPUT'), batchRows: Number(env('SLUICE_BENCH_BATCH_ROWS')) },
  stages: [
    {
      name: 'hash',
      module: env('SLUICE_BENCH_STAGE'),
      mode: env('SLUICE_BENCH_MODE') as 'inline' | 'thread' | 'process',
      concurrency: Number(env('SLUICE_BENCH_COPIES')),
      options: { column: 's', rounds: Number(env('SLUICE_BENCH_ROUNDS')) },
    },
  ],
  sink: { format: 'arrow', path: env('SLUICE_BENCH_OUTPUT') },
});
