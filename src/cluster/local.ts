/**
 * `--cluster local:N`: a private redis-server (unix socket in a temp dir, no persistence, no TCP
 * port) and N `sluice worker` processes on this machine, stopped at the end whatever happens:
 * the way to try and test cluster mode with one command. The workers are tied to the driver by
 * an IPC channel: if the driver dies, even by SIGKILL, the channel closes and they stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClusterError } from '../errors';

/** bin/sluice.js, from src/cluster (tsx) or dist/cluster (built) alike. */
const SLUICE_JS = path.resolve(__dirname, '../../bin/sluice.js');

/** What the `sluice` command (bin/sluice, see there) sets for malloc: the same for a worker started from here. */
function mallocEnv(env: NodeJS.ProcessEnv): { MALLOC_ARENA_MAX: string; GLIBC_TUNABLES: string } {
  const tunables = env.GLIBC_TUNABLES;
  const hugePages = tunables !== undefined && /(^|:)glibc\.malloc\.hugetlb=/.test(tunables) ? tunables : [tunables, 'glibc.malloc.hugetlb=1'].filter(Boolean).join(':');
  return { MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '2', GLIBC_TUNABLES: hugePages };
}

/** Dead workers replaced per worker of local:N before the cluster gives up (a worker that cannot start at all). */
const MAX_RESTARTS = 4;

export interface LocalClusterOptions {
  workers: number;
  /** Extra arguments for each `sluice worker` (lock duration, concurrency, log level). */
  workerArgs: string[];
}

export class LocalCluster {
  readonly url: string;
  private readonly workers: ChildProcess[] = [];
  private death: ((err: Error) => void) | undefined;
  private stopping = false;
  /** Workers started in place of dead ones. */
  private restarts = 0;
  private size = 0;
  /** Rejects when redis-server or every worker ends before stop(): the run cannot finish. */
  readonly died: Promise<never>;

  private constructor(
    private readonly dir: string,
    private readonly redis: ChildProcess,
  ) {
    this.url = `unix://${path.join(dir, 'redis.sock')}`;
    this.died = new Promise<never>((_, reject) => (this.death = reject));
    this.died.catch(() => undefined);
    redis.on('exit', (code, signal) => {
      if (!this.stopping) this.death?.(new ClusterError(`the private redis-server of --cluster local (pid ${redis.pid}) exited (${signal ?? `code ${code}`}) while the run was going on; nothing was committed`));
    });
  }

  static async start(opts: LocalClusterOptions): Promise<LocalCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-cluster-'));
    const sock = path.join(dir, 'redis.sock');
    const redis = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await readyLine(redis);
    } catch (err) {
      redis.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const cluster = new LocalCluster(dir, redis);
    cluster.size = opts.workers;
    for (let i = 0; i < opts.workers; i++) cluster.startWorker(opts.workerArgs);
    return cluster;
  }

  /** The pids of every worker started so far (tests signal them), those started in place of dead ones included. */
  get workerPids(): number[] {
    return this.workers.map((w) => w.pid).filter((p): p is number => p !== undefined);
  }

  get redisPid(): number | undefined {
    return this.redis.pid;
  }

  private startWorker(args: string[]): void {
    const w = spawn(process.execPath, [SLUICE_JS, 'worker', '--cluster', this.url, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...mallocEnv(process.env) } });
    this.workers.push(w);
    w.on('exit', () => {
      if (this.stopping) return;
      // A worker that died (a unit that kills its worker, out of memory) is replaced, as systemd or
      // Kubernetes replace one: its unit runs again on a live worker, and a unit that kills every
      // worker fails the run after its attempts (attempts.ts) instead of leaving no worker at all.
      if (this.restarts < MAX_RESTARTS * this.size) {
        this.restarts++;
        this.startWorker(args);
        return;
      }
      if (this.workers.every((x) => x.exitCode !== null || x.signalCode !== null)) {
        this.death?.(new ClusterError(`every worker of --cluster local:${this.size} exited before the run finished (the last: ${w.signalCode ?? `code ${w.exitCode}`}; ${this.restarts} replaced before); nothing was committed`));
      }
    });
  }

  /** Stop the workers (SIGTERM, then SIGKILL after `graceMs`), then redis-server, and remove the temp dir. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers.map((w) => ended(w, graceMs)));
    await ended(this.redis, graceMs);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function ended(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Resolves once redis-server says it accepts connections; rejects with what it said if it ends first. */
function readyLine(redis: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let said = '';
    const onData = (d: Buffer) => {
      said += d.toString();
      if (/ready to accept connections/i.test(said)) {
        redis.stdout?.off('data', onData);
        redis.stdout?.resume();
        resolve();
      }
    };
    redis.stdout?.on('data', onData);
    redis.stderr?.on('data', (d: Buffer) => (said += d.toString()));
    redis.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new ClusterError('--cluster local needs redis-server on the PATH (Debian/Ubuntu: apt-get install redis-server); or point --cluster at a running Redis: redis://host:port')
          : new ClusterError(`cannot start redis-server for --cluster local: ${err.message}`),
      );
    });
    redis.on('exit', (code, signal) => reject(new ClusterError(`redis-server for --cluster local ended before it was ready (${signal ?? `code ${code}`}):\n${said.slice(-2000)}`)));
  });
}
