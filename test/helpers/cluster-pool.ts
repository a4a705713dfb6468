/**
 * One cluster for a whole test file: a real redis-server (helpers/redis.ts) and N real
 * `sluice worker` processes on it, shared by the file's runs (`--cluster <url>`, each run its own
 * run id), where `--cluster local:N` starts a private redis-server and N workers for every run
 * (~0.5 s of CPU per worker before it takes a job). A worker that dies (a test's stage kills
 * its own worker) is not replaced here, unlike local:N's: a test that needs more live workers
 * calls `add`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli';
import { startRedis } from './redis';

export interface ClusterPool {
  /** `unix:///…/redis.sock`: what `--cluster` takes, and what the driver prints as the cluster. */
  url: string;
  /** Workers alive now. */
  live(): number;
  /** Starts `n` more workers. */
  add(n?: number): void;
  /** Kills the workers, then redis-server; removes its folder. */
  stop(): Promise<void>;
}

const alive = (w: ChildProcess) => w.exitCode === null && w.signalCode === null;

/** `workerArgs`: what every worker is started with (e.g. `['--lock-duration', '3s']`). */
export async function startClusterPool(workers: number, workerArgs: string[] = []): Promise<ClusterPool> {
  const redis = await startRedis();
  const started: ChildProcess[] = [];
  const add = (n = 1) => {
    for (let i = 0; i < n; i++) started.push(spawn(BIN, ['worker', '--cluster', redis.url, '--log-level', 'warn', ...workerArgs], { stdio: ['ignore', 'ignore', 'inherit'] }));
  };
  add(workers);
  return {
    url: redis.url,
    live: () => started.filter(alive).length,
    add,
    async stop() {
      await Promise.all(
        started.filter(alive).map(
          (w) =>
            new Promise((resolve) => {
              w.once('exit', resolve);
              w.kill('SIGKILL');
            }),
        ),
      );
      await redis.stop();
    },
  };
}
