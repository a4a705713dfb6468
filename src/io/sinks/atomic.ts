/**
 * Atomic output: everything is written into a hidden temporary sibling of the target,
 * fsynced, and renamed into place only on success. A failed run removes the temporary
 * and leaves the previous output untouched.
 */
import { existsSync } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { tempSibling } from './siblings';

export { tempSibling };

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

export interface CommitOptions {
  /** false: fail with EEXIST if the target exists by now, never replace it. Default true. */
  replace?: boolean;
  /** For tests: runs after the old directory output was moved aside, before the new one is renamed in. */
  afterMoveAside?: () => void;
}

/**
 * Put `temp` (file or directory) at `target`. A file replaces the target in one rename. A
 * directory cannot replace a non-empty one: the old tree is moved to a `.sluice-old-`
 * sibling first, so a run killed between the two renames leaves the target missing and the
 * old tree beside it, which the next run on the target puts back (siblings.ts).
 */
export async function commitRename(temp: string, target: string, opts: CommitOptions = {}): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const isDir = (await stat(temp)).isDirectory();
  if (opts.replace === false) {
    if (isDir) {
      // Under the target's lock nothing of ours creates it; this catches anything else.
      if (existsSync(target)) throw exists(target);
      await rename(temp, target);
    } else {
      try {
        await link(temp, target); // EEXIST if the target appeared: unlike rename, never replaces
      } catch (err) {
        // A file system without hard links: check, then rename (under the lock, only a non-sluice writer can race this).
        if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
        if (existsSync(target)) throw exists(target);
        await rename(temp, target);
        return fsyncPath(path.dirname(target));
      }
      await unlink(temp);
    }
  } else if (isDir && existsSync(target)) {
    const old = tempSibling(target, 'old');
    await rename(target, old);
    opts.afterMoveAside?.();
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

function exists(target: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EEXIST: file already exists, rename -> '${target}'`), { code: 'EEXIST', path: target });
}

export async function removeQuietly(p: string): Promise<void> {
  await rm(p, { recursive: true, force: true }).catch(() => undefined);
}
