/**
 * The file a staged unit's frames go to (staging.ts), written around the page cache where the
 * filesystem allows it (O_DIRECT): the frames are copied into a few reused, page-aligned buffers
 * and each full buffer is written straight to the disk on libuv's thread pool.
 *
 * Why: a resumable run stages every row it passes (issue 26's nightly job: 242 MB for 2 M rows)
 * and mostly never reads it again. Through the page cache, the kernel takes a fresh page for
 * every 4 KiB, zeroes or copies into it, and the fsync writes it back: measured here, 240 MB
 * cost 0.74 CPU-s of kernel time that way and 0.01 through O_DIRECT from one reused buffer
 * (and 0.06 of user time for the copy into it). The copy also lets a batch go back to its pool
 * as soon as it is copied, instead of once the kernel has taken it.
 *
 * O_DIRECT needs the buffer's address, the file offset and the length aligned to the device's
 * logical block: buffers are WebAssembly memory (the one allocation JavaScript can ask for that
 * starts on a page boundary), writes are whole 4 KiB blocks at 4 KiB offsets, and the last block
 * is padded and the file cut back to its length before the fsync. Written by hand: no npm
 * package writes O_DIRECT from Node. A filesystem that refuses O_DIRECT (or a first aligned
 * write) gets the page-cache path: the frames' own buffers in one writev each (frames.ts).
 */
import { closeSync, constants, fsync, ftruncate, openSync, write, writeSync, writev } from 'node:fs';

/** Alignment of offsets and lengths: covers devices with 512-byte and 4 KiB logical blocks. */
const BLOCK = 4096;
/** One buffer: a multiple of WebAssembly's 64 KiB page, so every buffer of a memory is aligned. */
export const DIRECT_BUFFER_BYTES = 2 << 20;
/** Buffers per file: one filling while two are written. */
const BUFFERS_PER_FILE = 3;
const BUFFERS_PER_MEMORY = 4;

/** Aligned buffers no file holds, kept for the next one (a run's staged streams reuse the same few). */
const spare: Buffer[] = [];

function alignedBuffer(): Buffer {
  const kept = spare.pop();
  if (kept) return kept;
  const pages = (DIRECT_BUFFER_BYTES * BUFFERS_PER_MEMORY) / 65_536;
  const memory = new Memory({ initial: pages, maximum: pages });
  for (let i = 1; i < BUFFERS_PER_MEMORY; i++) spare.push(Buffer.from(memory.buffer, i * DIRECT_BUFFER_BYTES, DIRECT_BUFFER_BYTES));
  return Buffer.from(memory.buffer, 0, DIRECT_BUFFER_BYTES);
}

/** WebAssembly's Memory (the project's TypeScript libs do not declare WebAssembly). */
const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: new (size: { initial: number; maximum: number }) => { buffer: ArrayBuffer } } }).WebAssembly;

const roundUp = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

function writeAsync(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

async function writeWhole(fd: number, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const n = await writeAsync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error('a write to a staged unit\'s file wrote nothing');
    // A short direct write (a full disk) ends on a block; one that does not cannot go on aligned.
    if (done + n < length && n % BLOCK !== 0) throw new Error(`a direct write to a staged unit's file stopped at byte ${position + done + n}, within a block`);
    done += n;
  }
}

function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

function ftruncateAsync(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => ftruncate(fd, length, (err) => (err ? reject(err) : resolve())));
}

/** Every byte of `chunks` appended to the open file `fd`, in order (a writev may write fewer than asked: it goes on from there). */
export async function writeChunks(fd: number, chunks: Uint8Array[]): Promise<void> {
  let rest = chunks;
  while (rest.length > 0) {
    let n = await new Promise<number>((resolve, reject) => writev(fd, rest, (err, written) => (err ? reject(err) : resolve(written))));
    if (n === 0) throw new Error('a write to a staged unit\'s file wrote nothing');
    let i = 0;
    while (i < rest.length && n >= rest[i].byteLength) n -= rest[i++].byteLength;
    rest = rest.slice(i);
    if (n > 0) rest[0] = rest[0].subarray(n);
  }
}

/** One staged unit's file, appended to in order by one writer. */
export interface StagedFile {
  /** Whether its bytes bypass the page cache (O_DIRECT). */
  readonly direct: boolean;
  /** Append every byte of `chunks`; settles once the chunks' memory may be reused (copied, or written). Calls must not overlap. */
  append(chunks: Uint8Array[]): Promise<void>;
  /** After the last append has settled: every byte written, the file exactly as long as what was appended. */
  flush(): Promise<void>;
  /** After flush: fsync(2). */
  sync(): Promise<void>;
  /** Close it once nothing of it is in flight (after sync, or after a failure). */
  close(): Promise<void>;
}

class DirectFile implements StagedFile {
  readonly direct = true;
  private buf: Buffer | undefined;
  private fill = 0;
  /** File offset of the next buffer written (always on a block). */
  private offset = 0;
  private length = 0;
  private held = 0;
  private readonly inflight = new Set<Promise<void>>();
  private readonly waiting: ((buf: Buffer) => void)[] = [];
  private failure: { err: unknown } | undefined;

  constructor(private readonly fd: number) {}

  async append(chunks: Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      let at = 0;
      while (at < chunk.byteLength) {
        if (this.failure) throw this.failure.err;
        this.buf ??= await this.freeBuffer();
        const n = Math.min(chunk.byteLength - at, DIRECT_BUFFER_BYTES - this.fill);
        this.buf.set(at === 0 && n === chunk.byteLength ? chunk : chunk.subarray(at, at + n), this.fill);
        this.fill += n;
        at += n;
        this.length += n;
        if (this.fill === DIRECT_BUFFER_BYTES) this.submit(DIRECT_BUFFER_BYTES);
      }
    }
  }

  async flush(): Promise<void> {
    if (this.buf && this.fill > 0) {
      // The last block is padded (zeros) to be written whole; the file is cut back to its length below.
      const padded = roundUp(this.fill);
      this.buf.fill(0, this.fill, padded);
      this.submit(padded);
    }
    await Promise.all([...this.inflight]);
    if (this.failure) throw this.failure.err;
    await ftruncateAsync(this.fd, this.length);
  }

  sync(): Promise<void> {
    return fsyncAsync(this.fd);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    if (this.buf) this.release(this.buf);
    this.buf = undefined;
    closeSync(this.fd);
  }

  /** A buffer of this file's: a new one while it holds fewer than BUFFERS_PER_FILE, else the next one a write gives back. */
  private freeBuffer(): Promise<Buffer> | Buffer {
    if (this.held < BUFFERS_PER_FILE) {
      this.held++;
      return alignedBuffer();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(buf: Buffer): void {
    const next = this.waiting.shift();
    if (next) return next(buf);
    this.held--;
    spare.push(buf);
  }

  private submit(length: number): void {
    const buf = this.buf!;
    const position = this.offset;
    this.offset += length;
    this.buf = undefined;
    this.fill = 0;
    const written: Promise<void> = writeWhole(this.fd, buf, length, position).then(
      () => this.release(buf),
      (err: unknown) => {
        this.failure ??= { err };
        this.release(buf);
      },
    );
    this.inflight.add(written);
    void written.finally(() => this.inflight.delete(written));
  }
}

/** The page-cache path: each append's chunks (views of the batch) in one writev; settles once written. */
class BufferedFile implements StagedFile {
  readonly direct = false;
  constructor(private readonly fd: number) {}

  append(chunks: Uint8Array[]): Promise<void> {
    return writeChunks(this.fd, chunks);
  }

  async flush(): Promise<void> {}

  sync(): Promise<void> {
    return fsyncAsync(this.fd);
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

/**
 * A new (truncated) staged file at `file`, opened: direct if `direct` says so, or, with 'probe',
 * if the filesystem takes it (the open, and one aligned block written, which the file's own first
 * write overwrites: a filesystem that takes the flag but not the alignment says so there). Its
 * `direct` is the answer for the next file in the same folder. Synchronous (once per unit), so a
 * file that cannot be made fails where it is asked for, whichever thread writes it (staging-thread.ts).
 */
export function openStagedFile(file: string, direct: boolean | 'probe'): { fd: number; direct: boolean } {
  if (direct !== false && constants.O_DIRECT !== undefined) {
    let fd: number | undefined;
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT, 0o666);
      if (direct === 'probe') {
        const probe = alignedBuffer();
        try {
          probe.fill(0, 0, BLOCK);
          writeSync(fd, probe, 0, BLOCK, 0);
        } finally {
          spare.push(probe);
        }
      }
      return { fd, direct: true };
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    }
  }
  return { fd: openSync(file, 'w'), direct: false };
}

/** The writer of a file openStagedFile opened (on any thread: the file descriptor is the process's). */
export function stagedFileOn(fd: number, direct: boolean): StagedFile {
  return direct ? new DirectFile(fd) : new BufferedFile(fd);
}

/** openStagedFile and its writer, on this thread. */
export function createStagedFile(file: string, direct: boolean | 'probe'): StagedFile {
  const opened = openStagedFile(file, direct);
  return stagedFileOn(opened.fd, opened.direct);
}
