/**
 * `--cluster redis://user:password@host:port` against a real redis-server that requires a
 * password (TCP, as an existing server is reached): the right password lists the runs; a wrong
 * one fails with a ClusterError that says so and never echoes the password.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { listRuns } from '../../../src/cluster/admin';

jest.setTimeout(60_000);

let redis: ChildProcess;
let port: number;

beforeAll(async () => {
  // A port free now (the kernel's pick), for redis-server to listen on.
  port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', 'open-sesame', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let said = '';
    redis.stdout!.on('data', (d: Buffer) => {
      said += d;
      if (/ready to accept connections/i.test(said)) resolve();
    });
    redis.on('exit', (code) => reject(new Error(`redis-server ended (${code}): ${said}`)));
  });
});

afterAll(async () => {
  const gone = new Promise((r) => redis.once('exit', r));
  redis.kill('SIGKILL');
  await gone;
});

it('the right password: the runs of that Redis (none yet)', async () => {
  expect(await listRuns(`redis://default:open-sesame@127.0.0.1:${port}/0`)).toEqual([]);
});

it('a wrong password: a ClusterError naming the Redis (without the password), not a hang', async () => {
  const err = await listRuns(`redis://default:wrong-one@127.0.0.1:${port}`).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err?.name).toBe('ClusterError');
  expect(err?.message).toMatch(new RegExp(`Redis at redis://default@127\\.0\\.0\\.1:${port} refused the credentials \\(.*(WRONGPASS|invalid username-password).*\\); give the right user and password`));
  expect(err?.message).not.toContain('wrong-one');
});
