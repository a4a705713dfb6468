/**
 * Cluster mode against an existing Redis reached over TCP, as a team runs one: a real
 * redis-server with a TLS port (a throwaway CA and server certificate made by `openssl` in a
 * temp dir) and a plain port, both requiring a password. One `sluice worker` on the TLS port
 * (its CA from SLUICE_REDIS_CA) serves every run of the file:
 * - `sluice run --cluster rediss://:password@127.0.0.1:<tls>?ca=<ca.pem>` runs a small job;
 * - `redis://:password@127.0.0.1:<port>` (the plain port of the same server) runs one too;
 * - a CA that did not sign the server's certificate fails loudly, at once, naming the server,
 *   for the driver and for a worker (exit 1, never a hang);
 * - a wrong password fails loudly naming the server, without printing the password.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { BIN, runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(300_000);

const ws = workspace('sluice-cluster-tls-');
const tls = path.join(ws.dir, 'tls');
const PASSWORD = 'open-sesame';
let redis: ChildProcess;
let worker: ChildProcess | undefined;
let port: number;
let tlsPort: number;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** A CA, a server certificate it signs (for 127.0.0.1 and localhost), and another CA that signed nothing here. EC keys: quick to make. */
function makeCertificates(): void {
  mkdirSync(tls);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: tls, stdio: ['ignore', 'ignore', 'pipe'] });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=sluice test CA');
  ssl('req', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(path.join(tls, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.cnf');
  ssl('req', '-x509', ...key, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=another CA');
}

beforeAll(async () => {
  makeCertificates();
  [port, tlsPort] = [await freePort(), await freePort()];
  redis = spawn(
    'redis-server',
    ['--port', String(port), '--tls-port', String(tlsPort), '--bind', '127.0.0.1', '--tls-cert-file', 'server.pem', '--tls-key-file', 'server.key', '--tls-ca-cert-file', 'ca.pem', '--tls-auth-clients', 'no', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no', '--dir', tls],
    { cwd: tls, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let said = '';
    redis.stdout!.on('data', (d: Buffer) => {
      said += d;
      if (/ready to accept connections/i.test(said)) resolve();
    });
    // Not installed (ENOENT) is an 'error' with no 'exit': without this the hook waits out its timeout.
    redis.on('error', reject);
    redis.on('exit', (code) => reject(new Error(`redis-server ended (${code}) before it was ready: ${said}`)));
  });
  // The one worker of the file: on the TLS port, its CA given by the environment.
  worker = spawn(BIN, ['worker', '--cluster', `rediss://:${PASSWORD}@127.0.0.1:${tlsPort}`, '--log-level', 'warn'], { env: { ...process.env, SLUICE_REDIS_CA: path.join(tls, 'ca.pem') }, stdio: ['ignore', 'ignore', 'inherit'] });
});

afterAll(async () => {
  for (const child of [worker, redis]) {
    if (!child || child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
  ws.cleanup();
});

const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
for (let i = 1; i <= 2; i++) writeFileSync(path.join(inputs, `f${i}.csv`), ['id,v', ...Array.from({ length: 10 }, (_, j) => `${i * 100 + j},${j}.5`)].join('\n') + '\n');

function config(name: string): { file: string; out: string } {
  const out = path.join(ws.dir, name, 'out.parquet');
  const file = ws.config({ name, source: { format: 'csv', path: path.join(inputs, '*.csv') }, stages: [{ name: 'same', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'inline' }], sink: { format: 'parquet', path: out } }, `${name}.config.ts`);
  return { file, out };
}

async function rowsOf(file: string): Promise<unknown> {
  return duckRows(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM read_parquet('${file}')`);
}

it('rediss:// with the CA as a URL parameter (the worker\'s from SLUICE_REDIS_CA), and redis:// with a password on the plain port: both runs commit', async () => {
  const viaTls = config('via-tls');
  const a = await runCli(['run', viaTls.file, '--cluster', `rediss://:${PASSWORD}@127.0.0.1:${tlsPort}?ca=${path.join(tls, 'ca.pem')}`, '--log-level', 'warn'], { timeoutMs: 120_000 });
  expect(a.stderr).toContain(`committed on rediss://127.0.0.1:${tlsPort}: 2 units, 20 rows read`);
  expect(a.code).toBe(0);
  expect(await rowsOf(viaTls.out)).toEqual([{ n: 20, ids: 20 }]);
  const plain = config('plain-password');
  const b = await runCli(['run', plain.file, '--cluster', `redis://:${PASSWORD}@127.0.0.1:${port}`, '--log-level', 'warn'], { timeoutMs: 120_000 });
  expect(b.code).toBe(0);
  expect(await rowsOf(plain.out)).toEqual([{ n: 20, ids: 20 }]);
  for (const r of [a, b]) expect(r.stderr).not.toContain(PASSWORD);
});

it('a CA that did not sign the server\'s certificate: the driver and a worker fail at once naming the server (exit 1), nothing written', async () => {
  const c = config('wrong-ca');
  const url = `rediss://:${PASSWORD}@127.0.0.1:${tlsPort}`;
  const said = new RegExp(`Redis at rediss://127\\.0\\.0\\.1:${tlsPort}: its TLS certificate does not verify \\(.+\\); give the CA that signed it`);
  const driver = await runCli(['run', c.file, '--cluster', `${url}?ca=${path.join(tls, 'other.pem')}`, '--log-level', 'warn'], { timeoutMs: 60_000 });
  expect(driver.code).toBe(1);
  expect(driver.stderr).toMatch(said);
  const w = await runCli(['worker', '--cluster', url, '--log-level', 'warn'], { timeoutMs: 60_000, env: { SLUICE_REDIS_CA: path.join(tls, 'other.pem') } });
  expect(w.code).toBe(1);
  expect(w.stderr).toMatch(said);
  // No CA at all: the system's CAs do not know the test's.
  const none = await runCli(['status', '--cluster', url], { timeoutMs: 60_000 });
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(said);
  for (const r of [driver, w, none]) expect(r.stderr).not.toContain(PASSWORD);
  expect(existsSync(c.out)).toBe(false);
});

it('a wrong password: the driver and a worker fail at once naming the server, without printing the password (exit 1)', async () => {
  const c = config('wrong-password');
  const url = `redis://:not-the-one@127.0.0.1:${port}`;
  const said = new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} refused the credentials \\(.*(WRONGPASS|invalid username-password).*\\)`);
  const driver = await runCli(['run', c.file, '--cluster', url, '--log-level', 'warn'], { timeoutMs: 60_000 });
  expect(driver.code).toBe(1);
  expect(driver.stderr).toMatch(said);
  const w = await runCli(['worker', '--cluster', url, '--log-level', 'warn'], { timeoutMs: 60_000 });
  expect(w.code).toBe(1);
  expect(w.stderr).toMatch(said);
  for (const r of [driver, w]) expect(r.stderr).not.toContain('not-the-one');
});
