/**
 * Where the cluster's Redis is, from `--cluster`: `local[:N]` (a private redis-server and N
 * workers on this machine, local.ts), `redis://[user:password@]host[:port][/db]`,
 * `rediss://…[?ca=/path/ca.pem]` (TLS), or `unix:///path/to/redis.sock`. A URL's password is
 * never printed: `label` is the URL without it.
 *
 * TLS verifies the server's certificate always (never `rejectUnauthorized: false`): against
 * the system's CAs, or the CA in the PEM file the URL's `ca=` names, or else the one
 * `SLUICE_REDIS_CA` names (for a private CA; Node's own NODE_EXTRA_CA_CERTS works too).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { RedisOptions } from 'bullmq';
import { ClusterError, ConfigError } from '../errors';

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
  for (const key of u.searchParams.keys()) if (key !== 'ca') throw usage(url, `"${key}=" is no parameter sluice knows (rediss:// takes ca=/path/to/ca.pem)`);
  const caParam = u.searchParams.get('ca');
  if (caParam !== null && u.protocol !== 'rediss:') throw usage(url, 'ca= is for TLS: use rediss://');
  const label = `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
  const caFile = caParam ?? (u.protocol === 'rediss:' ? process.env.SLUICE_REDIS_CA || undefined : undefined);
  return {
    host: u.hostname || 'localhost',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    ...(u.protocol === 'rediss:' && { tls: { ...(isIP(u.hostname) === 0 && { servername: u.hostname }), ...(caFile !== undefined && { ca: readCa(url, caFile, caParam !== null ? 'ca=' : 'SLUICE_REDIS_CA') }) } }),
    label,
  };
}

function readCa(url: string, file: string, from: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw usage(url, `${from} ${file}: cannot read the CA certificate (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of a PEM file`);
  }
}

/** Node's codes for a server certificate that does not verify (and a TLS handshake that cannot start). */
const TLS_CODES = /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_REVOKED|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_.*)$/;

/**
 * A connection error that waiting cannot cure (a server certificate that does not verify, a
 * password refused), as the ClusterError to stop with, naming the server; undefined for the
 * others (a server down or restarting: the callers retry those for a while).
 */
export function connectionFault(err: unknown, label: string): ClusterError | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  const message = e?.message ?? String(err);
  if (e?.code !== undefined && TLS_CODES.test(e.code)) {
    return new ClusterError(
      `Redis at ${label}: its TLS certificate does not verify (${message}); give the CA that signed it: rediss://…?ca=/path/to/ca.pem, or SLUICE_REDIS_CA=/path/to/ca.pem (the hostname in the URL must be one the certificate names)`,
      {},
      err,
    );
  }
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message)) {
    return new ClusterError(`Redis at ${label} refused the credentials (${message}); give the right user and password in the URL: redis://user:password@host:port (the password is not printed)`, {}, err);
  }
  return undefined;
}

function usage(value: string, why: string): ConfigError {
  const shown = value.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  return new ConfigError([{ path: '--cluster', message: `${shown}: ${why}; give local[:N], redis://[user:password@]host[:port][/db], rediss://… (TLS) or unix:///path/to/redis.sock` }]);
}
