/**
 * A file as a stream of byte chunks. Plain files are read into one reused buffer (fresh
 * memory per read costs ~10× a warm copy here), so a chunk is only valid until the next
 * one is pulled; `.gz` files stream through zlib. One descriptor is held for the whole
 * read and the file's identity checked at its end (../file-identity.ts): a file replaced
 * meanwhile is read as it was, one truncated or rewritten in place is an error naming it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SourceError } from '../../errors';
import { assertUnchanged } from '../file-identity';

export const DEFAULT_READ_SIZE = 4 * 1024 * 1024;

/**
 * The same bytes; a read error (e.g. a corrupt .gz) gets the line where the text read so far
 * ends, which only the reader of the text knows.
 */
export async function* withLineOnError(bytes: AsyncIterator<Buffer>, line: () => number): AsyncGenerator<Buffer> {
  let finished = false;
  try {
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await bytes.next();
      } catch (err) {
        finished = true;
        if (!(err instanceof SourceError) || err.line !== undefined) throw err;
        throw new SourceError(`${err.detail} (the text read so far ends in this line)`, { file: err.file, line: line() }, err.cause);
      }
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    // Stopped early (a reader that has what it needs): end the read, so its file is closed
    // now and not by the garbage collector (Node warns, and the descriptor stays open till then).
    if (!finished) await bytes.return?.(undefined);
  }
}

export async function* readBytes(file: string, readSize = DEFAULT_READ_SIZE, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new SourceError(`cannot open (${err.code ?? err.message})`, { file }, err);
  });
  try {
    const planned = await handle.stat();
    // A file smaller than a read gets a buffer its size (+1, so one read finds the end): a 4 MiB
    // buffer for each of 10 000 files of 50 bytes was 40 GB allocated, and most of the run's
    // time went to the garbage collections it caused.
    const size = Math.max(1, Math.min(readSize, planned.size + 1));
    yield* file.endsWith('.gz') ? gunzipped(handle, file, readSize, onBytes) : plain(handle, size, onBytes);
    await assertUnchanged(handle, planned, file);
  } finally {
    await handle.close();
  }
}

async function* plain(handle: FileHandle, readSize: number, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafe(readSize);
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, readSize, null);
    if (bytesRead === 0) return;
    onBytes?.(bytesRead);
    yield buffer.subarray(0, bytesRead);
  }
}

async function* gunzipped(handle: FileHandle, file: string, readSize: number, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  // Our own reads of `handle` (a stream over a FileHandle closes it at its end, and the
  // identity check comes after); copies, since plain() reuses its buffer.
  const stream = Readable.from(
    (async function* () {
      for await (const chunk of plain(handle, readSize, onBytes)) yield Buffer.from(chunk);
    })(),
  );
  try {
    for await (const chunk of stream.pipe(createGunzip({ chunkSize: Math.max(readSize, 64) }))) yield chunk as Buffer;
  } catch (err) {
    throw new SourceError(`cannot decompress (a truncated or corrupt .gz file?): ${(err as Error).message}`, { file }, err);
  } finally {
    stream.destroy();
  }
}
