/**
 * The core budget: every thread and process the plan starts, counted against the machine's
 * cores, and the size of polars' thread pool in each process (POLARS_MAX_THREADS), for
 * `explain` and the report.
 *
 * polars runs its parallel work on one pool per process and its caller blocks meanwhile, so a
 * pool lends its caller's core. Pools are left at polars' own size (the cores) unless the user
 * sets POLARS_MAX_THREADS, because both smaller sizes measured slower here (2 cores):
 * - in sluice's own process the callers are many (the source, a fused stage's copies parsing,
 *   stage copies calling polars, the Parquet encoder threads): a pool of 1 makes them queue;
 *   the obvious bench stage measured the same either way (1 M rows, fused: 0.99x vs 1.04x);
 * - a pool of 1 in each child of a process stage (the child's own core, as stage code keeps
 *   the others busy) made the nightly job 1.09x slower (2 M rows, 6 interleaved pairs): its
 *   aggregate's polars group-by uses the second core whenever the other stages wait.
 */
import type { CoreBudget, Plan, PlannedStage } from './types';

/** `userStages`: how many of `stages` are the config's (the rest are the ones sluice adds before the sink). */
export function coreBudget(
  stages: readonly PlannedStage[],
  userStages: number,
  source: Pick<Plan['source'], 'thread'>,
  machine: { cores: number; polarsEnv?: string },
): CoreBudget {
  const user = stages.slice(0, userStages);
  const stageThreads = user.reduce((n, s) => n + (s.mode === 'inline' ? 0 : s.copies), 0) + (user.some((s) => s.mode === 'inline') ? 1 : 0);
  const set = Number(machine.polarsEnv);
  const fromEnv = machine.polarsEnv !== undefined && Number.isInteger(set) && set > 0;
  return {
    cores: machine.cores,
    threads: [...(source.thread ? [{ owner: 'source', threads: 1 }] : []), ...stages.filter((s) => s.mode === 'thread').map((s) => ({ owner: s.name, threads: s.copies, ...(s.encode?.mainThreadBytes && { fromBytes: s.encode.mainThreadBytes }) }))],
    children: stages.filter((s) => s.mode === 'process').map((s) => ({ owner: s.name, processes: s.copies })),
    stageThreads,
    polars: { threads: fromEnv ? set : machine.cores, from: fromEnv ? 'POLARS_MAX_THREADS' : 'polars default' },
  };
}
