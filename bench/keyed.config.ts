/**
 * The obvious daily aggregate (bench/obvious/) on its own, over rows of (day, origin, delay,
 * route): SLUICE_BENCH_DAILY=one (thread × 1), keyed (thread × SLUICE_BENCH_COPIES, key day,
 * origin, no combine) or combine (thread × SLUICE_BENCH_COPIES with its combiner).
 */
import { definePipeline } from 'sluice';

const how = process.env.SLUICE_BENCH_DAILY ?? 'keyed';
const copies = Number(process.env.SLUICE_BENCH_COPIES ?? 2);
const stage =
  how === 'one'
    ? { name: 'daily', module: './obvious/daily-stage.ts', mode: 'thread', concurrency: 1 }
    : how === 'combine'
      ? { name: 'daily', module: './obvious/daily-stage-combine.ts', mode: 'thread', concurrency: copies }
      : { name: 'daily', module: './obvious/daily-stage-keyed.ts', mode: 'thread', concurrency: copies, key: ['day', 'origin'] };

export default definePipeline({
  name: 'bench-keyed-daily',
  source: { format: 'csv', path: process.env.SLUICE_BENCH_INPUT ?? '/tmp/daily.csv', schema: { day: 'utf8' } },
  stages: [stage as { name: string; module: string; mode: 'thread'; concurrency: number; key?: string[] }],
  sink: { format: 'parquet', path: process.env.SLUICE_BENCH_OUTPUT ?? '/tmp/sluice-bench-keyed.parquet' },
});
