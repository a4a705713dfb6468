/**
 * Atomic output: everything is written into a hidden temporary sibling of the target,
 * fsynced, and renamed into place only on success. A failed run removes the temporary
 * and leaves the previous output untouched.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** A hidden sibling name: `.<name>.sluice-tmp-<pid>-<random>`. */
export function tempSibling(target: string, tag = 'tmp'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.sluice-${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export async function fsyncPath(p: string): Promise<void> {
  const handle = await open(p, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync every file under a directory, then the directories themselves. */
export async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(p);
    else await fsyncPath(p);
  }
  await fsyncPath(dir);
}

/** Replace `target` (file or directory) by `temp` in one rename where possible. */
export async function commitRename(temp: string, target: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const isDir = (await stat(temp)).isDirectory();
  if (isDir && existsSync(target)) {
    // rename() cannot replace a non-empty directory: move the old one aside first.
    const old = tempSibling(target, 'old');
    await rename(target, old);
    try {
      await rename(temp, target);
    } catch (err) {
      await rename(old, target);
      throw err;
    }
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(temp, target);
  }
  await fsyncPath(path.dirname(target));
}

export async function removeQuietly(p: string): Promise<void> {
  await rm(p, { recursive: true, force: true }).catch(() => undefined);
}
