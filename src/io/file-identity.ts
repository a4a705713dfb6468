/**
 * An input file read through one descriptor keeps its identity: a file replaced by a
 * rename meanwhile is still the old inode (read as planned), and a change in place (a
 * rewrite, truncation or append: size or mtime differ from when it was opened) is caught
 * here, so a read never mixes old and new bytes.
 */
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { SourceError } from '../errors';

/** Fails naming the file if it changed in place since `planned` was taken. */
export async function assertUnchanged(handle: FileHandle, planned: Stats, file: string): Promise<void> {
  const now = await handle.stat();
  if (now.size !== planned.size || now.mtimeMs !== planned.mtimeMs) {
    throw new SourceError(`changed while being read (size ${planned.size} → ${now.size} bytes, modified ${new Date(now.mtimeMs).toISOString()}); rerun once it is complete`, { file });
  }
}
