/**
 * The benchmark's nightly job: the example pipeline with salted-sha256 pseudonyms (so every
 * peer can do exactly the same work). Input and output come from the environment.
 */
import { definePipeline } from 'sluice';

const mode = (process.env.SLUICE_BENCH_AGG_MODE ?? 'process') as 'inline' | 'thread' | 'process';
// SLUICE_BENCH_CLEAN_MODE=thread: clean as thread × 2 beside pseudonymise, so the two and the CSV parsing fuse into one worker per copy.
const clean = process.env.SLUICE_BENCH_CLEAN_MODE === 'thread' ? ({ mode: 'thread', concurrency: 2 } as const) : ({ mode: 'inline' } as const);

export default definePipeline({
  name: 'bench-nightly',
  source: { format: 'csv', path: process.env.SLUICE_BENCH_INPUT ?? '../data/transactions.csv', batchRows: 65_536, schema: { customer_id: 'utf8' } },
  stages: [
    { name: 'clean', module: '../stages/clean.ts', ...clean },
    {
      name: 'pseudonymise',
      module: '../stages/pseudonymise.ts',
      mode: 'thread',
      concurrency: 2,
      options: { salt: process.env.SLUICE_BENCH_SALT ?? 'bench-salt', columns: ['customer_id'], drop: ['email'], algorithm: 'salted-sha256' },
    },
    { name: 'aggregate', module: '../stages/aggregate.ts', mode, concurrency: 1 },
  ],
  sink: { format: 'parquet', path: process.env.SLUICE_BENCH_OUTPUT ?? '/tmp/sluice-bench-nightly.parquet' },
});
