/**
 * The staging thread (staging-thread.ts): the main thread's staged files, written here. Each
 * request is answered by its `seq` once done; an append once its chunks may be reused (copied
 * into this thread's aligned buffers, or written: staged-file.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '../../errors';
import type { WireError } from '../../protocol/errors';
import { stagedFileOn, type StagedFile } from './staged-file';

export type StagingRequest =
  /** A file the main thread opened (openStagedFile): this thread writes it from now on. */
  | { op: 'open'; id: number; fd: number; direct: boolean }
  | { op: 'append'; id: number; seq: number; chunks: Uint8Array[] }
  | { op: 'flush' | 'sync' | 'close'; id: number; seq: number }
  | { op: 'exit' };

export interface StagingReply {
  seq: number;
  error?: WireError;
}

export function serveStaging(port: MessagePort, exit: () => void): void {
  const files = new Map<number, StagedFile>();
  port.on('message', (m: StagingRequest) => {
    if (m.op === 'exit') return exit();
    if (m.op === 'open') return void files.set(m.id, stagedFileOn(m.fd, m.direct));
    const file = files.get(m.id);
    let done: Promise<void>;
    if (!file) done = Promise.reject(new Error(`internal: staged file #${m.id} is not open on the staging thread`));
    else if (m.op === 'append') done = file.append(m.chunks);
    else if (m.op === 'flush') done = file.flush();
    else if (m.op === 'sync') done = file.sync();
    else {
      files.delete(m.id);
      done = file.close();
    }
    done.then(
      () => port.postMessage({ seq: m.seq } satisfies StagingReply),
      (err: unknown) => port.postMessage({ seq: m.seq, error: serializeError(err) } satisfies StagingReply),
    );
  });
}
