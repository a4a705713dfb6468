/**
 * An apache-arrow writer sink that writes synchronously to a file descriptor. The Arrow
 * writers enqueue *views* of a batch's buffers; writing them out before `write()` returns
 * means the batch's memory (often a recycled shared-memory slab) is free once it returns.
 * Small pieces (metadata, padding) are gathered so they cost one syscall, not dozens.
 */
import { writeSync } from 'node:fs';
// The queue class the Arrow writers accept as their sink by identity (instanceof).
import { AsyncByteQueue } from 'apache-arrow/io/stream';

const SMALL = 64 * 1024;

export class SyncFdSink extends AsyncByteQueue<Uint8Array> {
  private readonly staging = Buffer.allocUnsafe(SMALL);
  private staged = 0;
  bytes = 0;

  /** `out.fd` is read at each write: the file may be let go and reopened between batches. */
  constructor(private readonly out: { readonly fd: number }) {
    super();
  }

  override write(value: ArrayBufferView | Uint8Array): void {
    const chunk = value instanceof Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    this.bytes += chunk.byteLength;
    if (chunk.byteLength < SMALL - this.staged) {
      this.staging.set(chunk, this.staged);
      this.staged += chunk.byteLength;
      return;
    }
    this.flush();
    writeAll(this.out.fd, chunk);
  }

  /** Push staged bytes to the file. */
  flush(): void {
    if (this.staged === 0) return;
    writeAll(this.out.fd, this.staging.subarray(0, this.staged));
    this.staged = 0;
  }

  override close(): void {
    this.flush();
  }
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
}
