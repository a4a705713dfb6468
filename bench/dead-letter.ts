/**
 * What `onError: 'dead-letter'` (source and every stage, and a dead-letter output) costs when
 * nothing fails: the nightly job (bench/nightly.config.ts) with and without it, whole runs
 * through the CLI (dist/), interleaved, CPU seconds of the whole process tree and wall, the
 * median of `rounds` rounds; the two outputs checked equal. Run: `npx tsx bench/dead-letter.ts [rounds]`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pl from 'nodejs-polars';
import { fmt, interleaved, ROOT, type Contender } from './lib';

const rounds = Number(process.argv[2] ?? 5);
const out = (name: string) => `/tmp/sluice-bench-dead-${name}.parquet`;
const contender = (on: boolean): Contender => ({
  name: on ? "onError: 'dead-letter'" : 'onError: fail (default)',
  cmd: [path.join(ROOT, 'bin/sluice'), 'run', path.join(__dirname, 'nightly.config.ts'), '--quiet', '--log-level', 'warn'],
  env: { SLUICE_BENCH_OUTPUT: out(on ? 'on' : 'off'), SLUICE_BENCH_ON_ERROR: on ? 'dead-letter' : '', SLUICE_BENCH_DEAD_LETTER: '/tmp/sluice-bench-dead-rejects.ndjson' },
});
const contenders = [contender(false), contender(true)];
const { medians, all } = interleaved(contenders, rounds);
contenders.forEach((c, i) => console.log(`${c.name}: CPU ${fmt(medians[i].cpu_s)} s, wall ${fmt(medians[i].wall_s)} s (median of ${rounds}; CPU runs: ${all[i].map((m) => fmt(m.cpu_s)).join(', ')})`));
console.log(`overhead: CPU ${fmt((100 * (medians[1].cpu_s - medians[0].cpu_s)) / medians[0].cpu_s, 1)} %, wall ${fmt((100 * (medians[1].wall_s - medians[0].wall_s)) / medians[0].wall_s, 1)} %`);
const read = (f: string) => JSON.stringify(pl.readParquet(f).toRecords());
if (read(out('on')) !== read(out('off'))) throw new Error('the outputs with and without onError differ');
const rejects = readFileSync('/tmp/sluice-bench-dead-rejects.ndjson', 'utf8').split('\n').filter(Boolean).length;
console.log(`outputs equal; ${rejects} rejected rows`);
