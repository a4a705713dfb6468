/**
 * A connected pair of Unix sockets whose local end reads with `onread` (the kernel writes
 * straight into buffers we choose). Node has no socketpair(); the end it creates for a
 * child's stdio 'pipe' starts reading at once into fresh 64 KiB chunks, and at 1 GB/s
 * that churn of external memory keeps V8 in major GCs. So: listen on a private address,
 * connect to it with `onread`, take the accepted end paused (it never reads), and hand
 * that end to the child as a stdio slot; the caller then closes its copy.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface SocketPair {
  /** Our end: reads through `onread`. */
  local: net.Socket;
  /** The end for the child (pass it in `stdio`, then destroy it here). Paused, never read. */
  remote: net.Socket;
}

export async function socketPair(onread: net.OnReadOpts): Promise<SocketPair> {
  // Linux: an abstract address (no file, gone with the socket). Elsewhere: a private temp path.
  const linux = process.platform === 'linux';
  const address = linux ? `\0sluice-${process.pid}-${randomUUID()}` : path.join(os.tmpdir(), `sluice-${process.pid}-${randomUUID()}.sock`);
  const server = net.createServer({ pauseOnConnect: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address, resolve);
    });
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const local = net.connect({ path: address, onread });
    await new Promise<void>((resolve, reject) => {
      local.once('connect', resolve);
      local.once('error', reject);
    });
    // Nobody else knows the address, so the one connection is ours.
    return { local, remote: await accepted };
  } finally {
    server.close();
    if (!linux) rmSync(address, { force: true });
  }
}
