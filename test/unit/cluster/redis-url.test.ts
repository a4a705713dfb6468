/**
 * `--cluster redis://user:password@host:port` against a real redis-server that requires a
 * password (TCP, as an existing server is reached): the right password lists the runs; a wrong
 * one fails with a ClusterError that says so and never echoes the password, and leaves nothing
 * behind that holds the process (a jest worker, a script) once it has answered.
 */
import { createHook } from 'node:async_hooks';
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
    // Not installed (ENOENT) is an 'error' with no 'exit': without this the hook waits out its timeout.
    redis.on('error', reject);
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

it('a wrong password leaves no timer that holds the process once the error is given', async () => {
  // The timers started while listRuns ran (async_hooks sees each one created) and still pending
  // when it has answered. ioredis ends a refused socket it had closed already and arms a 2 s
  // timer to destroy it that nothing clears: jest's worker, given 0.5 s to exit, was
  // force-exited. Structure, not time: no such timer may be left armed for longer than that.
  const started = new Map<number, { _idleTimeout?: number; _destroyed?: boolean; hasRef?: () => boolean }>();
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type === 'Timeout') started.set(id, resource as never);
    },
    destroy(id) {
      started.delete(id);
    },
  }).enable();
  let err: Error | undefined;
  try {
    err = await listRuns(`redis://default:wrong-one@127.0.0.1:${port}`).then(
      () => undefined,
      (e: Error) => e,
    );
  } finally {
    hook.disable();
  }
  expect(err?.name).toBe('ClusterError');
  const holding = [...started.values()].filter((t) => !t._destroyed && t.hasRef?.() !== false).map((t) => t._idleTimeout);
  expect(holding.filter((ms) => ms === undefined || ms > 500)).toEqual([]);
});
