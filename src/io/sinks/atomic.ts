/**
 * Atomic output: everything is written into a hidden temporary sibling of the target,
 * fsynced, and renamed into place only on success. A failed run removes the temporary
 * and leaves the previous output untouched.
 */
import { existsSync, statSync } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
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
 * One output's publication, decided before its first rename (a sink's prepare) and written
 * in a commit journal when several outputs publish together (journal.ts). `id` is the
 * temporary's `dev:ino`, which a rename keeps: where the target has it, the output is
 * published, whatever else happened around it; that is how recovery tells "published" from
 * "the temporary was deleted and the target is still the old output".
 */
export interface Publication {
  target: string;
  temp: string;
  kind: 'file' | 'directory';
  /** false ("error-if-exists", or "append" to a target that did not exist): never replace. */
  replace: boolean;
  /** Where a directory output's old tree is moved aside to (replace only). */
  old?: string;
  id: string;
}

/** Where a publication stands, from the file system alone. */
export type PublicationState = 'pending' | 'linked' | 'published' | 'missing';

/** `dev:ino` of a path, or undefined. */
export function fileId(p: string): string | undefined {
  const st = statSync(p, { throwIfNoEntry: false });
  return st && `${st.dev}:${st.ino}`;
}

/** The publication of `temp` at `target`, as it stands now (before its rename). */
export function describePublication(temp: string, target: string, replace: boolean): Publication {
  const st = statSync(temp);
  const kind = st.isDirectory() ? 'directory' : 'file';
  return { target, temp, kind, replace, ...(kind === 'directory' && replace && { old: tempSibling(target, 'old') }), id: `${st.dev}:${st.ino}` };
}

/**
 * pending: the temporary is there, not yet at the target; linked: both are (a no-replace file
 * hard-linked in, its temporary not yet unlinked); published: the target is it; missing:
 * neither (something other than sluice removed the temporary).
 */
export function publicationState(p: Publication): PublicationState {
  const atTarget = fileId(p.target) === p.id;
  if (fileId(p.temp) === p.id) return atTarget ? 'linked' : 'pending';
  return atTarget ? 'published' : 'missing';
}

/**
 * Put `temp` (file or directory) at `target`. A file replaces the target in one rename. A
 * directory cannot replace a non-empty one: the old tree is moved to a `.sluice-old-`
 * sibling first, so a run killed between the two renames leaves the target missing and the
 * old tree beside it, which the next run on the target puts back (siblings.ts), or, when a
 * commit journal covers it, renames the new one in (journal.ts).
 */
export async function commitRename(temp: string, target: string, opts: CommitOptions = {}): Promise<void> {
  await publish(describePublication(temp, target, opts.replace !== false), opts);
}

/**
 * Finish `p` from wherever it stands (the state above): a commit publishes each output
 * through here, and recovery from a journal finishes a half-published commit the same way.
 * Throws if the temporary is gone and the target is not it (nothing is guessed).
 */
export async function publish(p: Publication, opts: Pick<CommitOptions, 'afterMoveAside'> = {}): Promise<void> {
  const state = publicationState(p);
  if (state === 'missing') throw Object.assign(new Error(`neither ${p.temp} (this commit's output) is there nor is ${p.target} that output`), { code: 'ENOENT', path: p.temp });
  if (state === 'linked') await unlink(p.temp);
  if (state === 'pending') await renameInto(p, opts);
  if (p.old) await rm(p.old, { recursive: true, force: true });
  await fsyncPath(path.dirname(p.target));
}

async function renameInto(p: Publication, opts: Pick<CommitOptions, 'afterMoveAside'>): Promise<void> {
  const { temp, target } = p;
  await mkdir(path.dirname(target), { recursive: true });
  if (!p.replace) {
    if (p.kind === 'directory') {
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
        return;
      }
      await unlink(temp);
    }
  } else if (p.kind === 'directory' && existsSync(target)) {
    const old = p.old ?? tempSibling(target, 'old');
    // The old tree moved aside already, and something else made the target since: not ours to move.
    if (existsSync(old)) throw exists(target);
    await rename(target, old);
    opts.afterMoveAside?.();
    try {
      await rename(temp, target);
    } catch (err) {
      await rename(old, target);
      throw err;
    }
  } else {
    await rename(temp, target);
  }
}

function exists(target: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EEXIST: file already exists, rename -> '${target}'`), { code: 'EEXIST', path: target });
}

export async function removeQuietly(p: string): Promise<void> {
  await rm(p, { recursive: true, force: true }).catch(() => undefined);
}
