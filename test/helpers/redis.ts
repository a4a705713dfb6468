/**
 * A real redis-server for a test (no mocks of Redis or BullMQ anywhere): on a unix socket in
 * its own temp dir, no TCP port, no persistence; ~0.2 s to start. Stop it in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestRedis {
  /** `unix:///…/redis.sock`, as --cluster takes it. */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-redis-'));
  const sock = path.join(dir, 'redis.sock');
  const child: ChildProcess = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let said = '';
    child.stdout!.on('data', (d: Buffer) => {
      said += d;
      if (/ready to accept connections/i.test(said)) resolve();
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`redis-server ended (${code}) before it was ready: ${said}`)));
  });
  return {
    url: `unix://${sock}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
