/**
 * The staging thread (staging-thread.ts): the main thread's staged files, written here. Each
 * request is answered by its `seq` once done; an append once its chunks may be reused (copied
 * into this thread's aligned buffers, or written: staged-file.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '../../errors';
import type { StagingReply, StagingRequest } from '../../protocol/staging';
import { stagedFileOn, type StagedFile } from './staged-file';

export function serveStaging(port: MessagePort, exit: () => void): void {
  const files = new Map<number, StagedFile>();
  port.on('message', (m: StagingRequest) => {
    if (m.type === 'exit') return exit();
    if (m.type === 'open') return void files.set(m.id, stagedFileOn(m.fd, m.direct));
    const file = files.get(m.id);
    let done: Promise<void>;
    if (!file) done = Promise.reject(new Error(`internal: staged file #${m.id} is not open on the staging thread`));
    else if (m.type === 'append') done = file.append(m.chunks);
    else if (m.type === 'flush') done = file.flush();
    else if (m.type === 'sync') done = file.sync();
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
