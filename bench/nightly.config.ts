/**
 * The benchmark's nightly job: the example pipeline with salted-sha256 pseudonyms (so every
 * peer can do exactly the same work). Input and output come from the environment.
 */
import { definePipeline } from 'sluice';

const mode = (process.env.SLUICE_BENCH_AGG_MODE ?? 'process') as 'inline' | 'thread' | 'process';
// SLUICE_BENCH_CLEAN_MODE=thread: clean as thread × 2 beside pseudonymise, so the two and the CSV parsing fuse into one worker per copy.
// SLUICE_BENCH_ON_ERROR=dead-letter: the source and every stage send bad rows to a dead-letter output (bench/dead-letter.ts: its cost when nothing fails).
const onError = process.env.SLUICE_BENCH_ON_ERROR === 'dead-letter' ? ({ onError: 'dead-letter' } as const) : {};
const clean = process.env.SLUICE_BENCH_CLEAN_MODE === 'thread' ? ({ mode: 'thread', concurrency: 2 } as const) : ({ mode: 'inline' } as const);

export default definePipeline({
  name: 'bench-nightly',
  source: { format: 'csv', path: process.env.SLUICE_BENCH_INPUT ?? '../data/transactions.csv', batchRows: 65_536, schema: { customer_id: 'utf8' }, ...onError },
  stages: [
    { name: 'clean', module: '../stages/clean.ts', ...clean, ...onError },
    {
      name: 'pseudonymise',
      module: '../stages/pseudonymise.ts',
      mode: 'thread',
      concurrency: 2,
      ...onError,
      options: { salt: process.env.SLUICE_BENCH_SALT ?? 'bench-salt', columns: ['customer_id'], drop: ['email'], algorithm: 'salted-sha256' },
    },
    { name: 'aggregate', module: '../stages/aggregate.ts', mode, concurrency: 1, ...onError },
  ],
  sink: { format: 'parquet', path: process.env.SLUICE_BENCH_OUTPUT ?? '/tmp/sluice-bench-nightly.parquet' },
  ...(process.env.SLUICE_BENCH_ON_ERROR === 'dead-letter' && { deadLetter: { format: 'ndjson' as const, path: process.env.SLUICE_BENCH_DEAD_LETTER ?? '/tmp/sluice-bench-nightly-rejects.ndjson' } }),
});
