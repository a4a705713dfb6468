/**
 * Several outputs in one pass: the nightly job writing events and daily totals from one read
 * of the input, against the two separate runs a user would otherwise schedule (each reads,
 * cleans and pseudonymises the input again). Interleaved, medians; CPU of the whole tree.
 */
import path from 'node:path';
import { ensureInput } from './e2e';
import { fmt, interleaved, ROOT, target } from './lib';

export async function graph(rows: number, rounds: number): Promise<void> {
  const input = await ensureInput(rows);
  const cfg = path.join(ROOT, 'bench/graph.config.ts');
  const sluice = path.join(ROOT, 'bin/sluice');
  const env = (branch: string) => ({ SLUICE_BENCH_INPUT: input, SLUICE_BENCH_GRAPH: branch, SLUICE_BENCH_OUTPUT: `/tmp/sluice-bench-graph-${branch}` });
  const two = `SLUICE_BENCH_GRAPH=events SLUICE_BENCH_OUTPUT=/tmp/sluice-bench-graph-events ${sluice} run ${cfg} --quiet && SLUICE_BENCH_GRAPH=totals SLUICE_BENCH_OUTPUT=/tmp/sluice-bench-graph-totals ${sluice} run ${cfg} --quiet`;
  const { medians } = interleaved(
    [
      { name: 'one pass', cmd: [sluice, 'run', cfg, '--quiet'], env: env('both') },
      { name: 'two runs', cmd: ['sh', '-c', two], env: { SLUICE_BENCH_INPUT: input } },
    ],
    rounds,
  );
  const [one, sep] = medians;
  console.log(`  ${rows.toLocaleString('en-US')} rows, ${rounds} interleaved rounds (medians)`);
  console.log(`  one pass (events + totals):  wall ${fmt(one.wall_s)} s, CPU ${fmt(one.cpu_s)} s, peak RSS ${fmt(one.max_rss_mb, 0)} MB`);
  console.log(`  two separate runs:           wall ${fmt(sep.wall_s)} s, CPU ${fmt(sep.cpu_s)} s, peak RSS ${fmt(sep.max_rss_mb, 0)} MB`);
  target('graph: one pass faster than the two runs it replaces', one.wall_s < sep.wall_s, `${fmt(one.wall_s / sep.wall_s)}× wall, ${fmt(one.cpu_s / sep.cpu_s)}× CPU`);
}
