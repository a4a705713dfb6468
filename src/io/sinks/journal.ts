/**
 * The journal of a commit of several outputs (commit-set.ts). Each output's rename is atomic,
 * several renames are not: a run killed between two of them would leave one new output
 * beside an old one. So before the first rename the commit writes down what it is about to
 * publish (each target, its temporary, whether it may replace, where an old directory tree
 * goes, the temporary's identity), and whoever next opens any of the targets finishes the
 * commit from it: rolled forward, never back, since everything was written, synced and checked
 * before the journal was.
 *
 * Where it lives: a copy beside every target (`.<name>.sluice-jrnl-<pid>-<start>-<hex>`), each
 * written whole (temporary, fsync, rename, fsync of the folder) before the first rename. A
 * single journal in one place would be found only by a run that looks there; a copy beside
 * each target is found by the next run on ANY of them (a run of another pipeline that writes
 * only one of those paths, or `sluice recover` on one config), through the same listing of
 * hidden siblings that already finds a dead run's temporaries.
 *
 * A copy is removed once its target's output is published. A commit killed while writing the
 * copies has published nothing: it is decided only when every copy exists (or, later, once
 * any output is published), so a lone copy of an undecided commit is removed and the old
 * outputs stay (their temporaries are then a dead run's, removed as usual).
 */
import { existsSync, readFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { SinkError } from '../../errors';
import { fsyncPath, publicationState, publish, type Publication } from './atomic';
import { sinkFailure } from './failures';
import { SinkLock } from './lock';
import { listSiblings, processAlive, processStart, tempSibling } from './siblings';

interface JournalBody {
  sluiceCommitJournal: 1;
  pid: number;
  start?: string;
  createdAt: string;
  /** The copy beside each entry's target, in the order of `entries`. */
  copies: string[];
  entries: Publication[];
}

export class CommitJournal {
  private constructor(readonly copies: string[]) {}

  /** Write a copy beside every target, each durable before the next; all before any rename. */
  static async write(entries: Publication[]): Promise<CommitJournal> {
    const copies = entries.map((e) => tempSibling(e.target, 'jrnl'));
    const body: JournalBody = { sluiceCommitJournal: 1, pid: process.pid, start: processStart(process.pid), createdAt: new Date().toISOString(), copies, entries };
    const text = JSON.stringify(body, null, 1) + '\n';
    for (const [i, copy] of copies.entries()) {
      const staging = tempSibling(entries[i].target, 'tmp');
      const handle = await open(staging, 'wx');
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(staging, copy);
      await fsyncPath(path.dirname(copy));
    }
    return new CommitJournal(copies);
  }

  /** The commit is whole: its journal goes. */
  async remove(): Promise<void> {
    for (const copy of this.copies) {
      await rm(copy, { force: true });
      await fsyncPath(path.dirname(copy));
    }
  }
}

export interface FinishOptions {
  log?: Logger;
  /** Targets whose lock the caller holds (besides `target`): finished without taking it. */
  held?: ReadonlySet<string>;
  /** Named in the locks taken on the other targets. */
  pipeline?: string;
}

/**
 * Finish every commit whose journal lies beside `target` and whose writer is dead; call it
 * holding `target`'s lock, before recoverSiblings (which would otherwise put an old directory
 * tree back). Each other target of such a commit is finished too when its lock is held or can
 * be taken; a target locked by a live run is left to that run, which found the copy beside it
 * when it opened. Returns what it did, in words.
 */
export async function finishJournals(target: string, opts: FinishOptions = {}): Promise<string[]> {
  const done: string[] = [];
  for (const s of listSiblings(target)) {
    if (s.tag === 'jrnl' && !processAlive(s.pid, s.start)) done.push(...(await finishJournal(s.path, s.pid, target, opts)));
  }
  return done;
}

async function finishJournal(copy: string, pid: number, target: string, opts: FinishOptions): Promise<string[]> {
  const body = readJournal(copy);
  const { entries, copies } = body;
  const who = `a run (pid ${pid}, ${body.createdAt}) that died while committing ${entries.map((e) => e.target).join(', ')}`;
  const states = entries.map(publicationState);
  const decided = copies.every((c) => existsSync(c)) || states.some((s) => s === 'published' || s === 'linked');
  if (!decided) {
    await rm(copy, { force: true });
    await fsyncPath(path.dirname(copy));
    return [said(opts.log, `removed ${copy}: ${who} before its journal was complete; nothing of it was published, the previous outputs stay`)];
  }
  const locks: SinkLock[] = [];
  const acting: number[] = [];
  const left: string[] = [];
  try {
    for (const [i, e] of entries.entries()) {
      if (e.target === target || opts.held?.has(e.target)) acting.push(i);
      else {
        const lock = tryLock(e.target, opts);
        if (lock) {
          locks.push(lock);
          acting.push(i);
        } else left.push(e.target);
      }
    }
    const missing = acting.filter((i) => publicationState(entries[i]) === 'missing');
    if (missing.length) {
      throw new SinkError(
        `cannot finish the commit recorded in ${copy} (by ${who}): ${missing.map((i) => `${entries[i].temp}, the new ${entries[i].target},`).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} gone and the target is not it (removed by something other than sluice?). sluice will not guess which outputs to keep: put the missing files back and run again (or \`sluice recover\`), or decide yourself and remove ${copies.join(', ')}`,
      );
    }
    const published: string[] = [];
    for (const i of acting) {
      const state = publicationState(entries[i]);
      try {
        await publish(entries[i]);
      } catch (err) {
        throw sinkFailure(err, `finish the commit recorded in ${copy} at`, entries[i].target, entries[i].temp);
      }
      if (state !== 'published') published.push(entries[i].target);
    }
    for (const i of acting) {
      await rm(copies[i], { force: true });
      await fsyncPath(path.dirname(copies[i]));
    }
    const rest = left.length ? `; ${left.join(', ')} ${left.length > 1 ? 'are' : 'is'} locked by a live run, which finishes ${left.length > 1 ? 'them' : 'it'}` : '';
    return [said(opts.log, `finished the commit of ${who}: ${published.length ? `published ${published.join(', ')}` : 'every output was published already'} (rolled forward from ${copy})${rest}`)];
  } finally {
    for (const lock of locks) lock.release();
  }
}

function readJournal(copy: string): JournalBody {
  let body: JournalBody;
  try {
    body = JSON.parse(readFileSync(copy, 'utf8')) as JournalBody;
  } catch (err) {
    throw new SinkError(`cannot read the commit journal ${copy}, which records a commit sluice has not finished; see which outputs beside it are new, then remove it`, err);
  }
  const ok =
    body?.sluiceCommitJournal === 1 &&
    Array.isArray(body.entries) &&
    Array.isArray(body.copies) &&
    body.copies.length === body.entries.length &&
    body.copies.includes(copy) &&
    body.entries.every((e) => typeof e?.target === 'string' && typeof e.temp === 'string' && typeof e.id === 'string' && typeof e.replace === 'boolean' && (e.kind === 'file' || e.kind === 'directory'));
  if (!ok) throw new SinkError(`${copy} is not a commit journal sluice can read (damaged, or written by another version); see which outputs beside it are new, then remove it`);
  return body;
}

/** The lock of another target of the commit, or undefined when a live run holds it. */
function tryLock(target: string, opts: FinishOptions): SinkLock | undefined {
  try {
    return SinkLock.acquire(target, opts.pipeline ?? 'sluice recover', opts.log);
  } catch (err) {
    if (err instanceof SinkError) return undefined;
    throw sinkFailure(err, 'lock', target);
  }
}

function said(log: Logger | undefined, text: string): string {
  log?.warn(text);
  return text;
}
