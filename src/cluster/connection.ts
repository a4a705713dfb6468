/**
 * Where the cluster's Redis is, from `--cluster`: `local[:N]` (a private redis-server and N
 * workers on this machine, local.ts), `redis://[user:password@]host[:port][/db]`,
 * `rediss://…` (TLS), or `unix:///path/to/redis.sock`. A URL's password is never printed:
 * `label` is the URL without it.
 */
import type { RedisOptions } from 'bullmq';
import { ConfigError } from '../errors';

export type ClusterTarget = { kind: 'local'; workers: number } | { kind: 'url'; url: string };

export function parseClusterTarget(value: string): ClusterTarget {
  const local = /^local(?::(\d+))?$/.exec(value);
  if (local) {
    const workers = local[1] === undefined ? 2 : Number(local[1]);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw usage(value, 'local:N needs 1 ≤ N ≤ 64 workers');
    return { kind: 'local', workers };
  }
  redisOptions(value); // refused here if it is no URL we know
  return { kind: 'url', url: value };
}

/** ioredis options for a Redis URL (see above); `label` is safe to print. */
export function redisOptions(url: string): RedisOptions & { label: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usage(url, 'not a URL');
  }
  if (u.protocol === 'unix:') {
    if (!u.pathname) throw usage(url, 'unix:// needs the socket path, e.g. unix:///run/redis/redis.sock');
    return { path: decodeURIComponent(u.pathname), label: `unix://${u.pathname}` };
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw usage(url, `${u.protocol}// is not a Redis URL`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw usage(url, `"${u.pathname.slice(1)}" is no database number`);
  return {
    host: u.hostname || 'localhost',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    ...(u.protocol === 'rediss:' && { tls: { servername: u.hostname } }),
    label: `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname.length > 1 ? u.pathname : ''}`,
  };
}

function usage(value: string, why: string): ConfigError {
  const shown = value.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  return new ConfigError([{ path: '--cluster', message: `${shown}: ${why}; give local[:N], redis://[user:password@]host[:port][/db], rediss://… (TLS) or unix:///path/to/redis.sock` }]);
}
