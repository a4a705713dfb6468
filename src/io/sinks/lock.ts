/**
 * One writer per sink path: a lock file `.<name>.sluice-lock` beside the target, holding
 * who writes it (pid, host, start time, pipeline). It is created whole or not at all:
 * written under a unique name, then hard-linked to the lock name, which fails if a lock
 * exists (O_EXCL semantics that also hold on NFS). A lock whose pid is dead on this host
 * is stale and taken over; on another host the pid cannot be checked, so the message says
 * which file to remove. Released on commit, on abort and at process exit.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { SinkError } from '../../errors';
import { processAlive, processStart, tempSibling } from './siblings';

export interface LockHolder {
  pid: number;
  /** When that pid started (Linux), so a later process that reused the pid is not taken for the holder. */
  pidStart?: string;
  hostname: string;
  startedAt: string;
  pipeline: string;
}

export function lockPath(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.sluice-lock`);
}

/** Locks this process holds, released at exit if their run could not (a sync 'exit' handler). */
const held = new Map<string, string>();
let exitHook = false;

export class SinkLock {
  private constructor(
    readonly file: string,
    private readonly text: string,
  ) {}

  /** Take the lock on `target` or throw a SinkError naming its holder. */
  static acquire(target: string, pipeline: string, log?: Logger): SinkLock {
    const file = lockPath(target);
    const me: LockHolder = { pid: process.pid, pidStart: processStart(process.pid), hostname: os.hostname(), startedAt: new Date().toISOString(), pipeline };
    const text = JSON.stringify(me) + '\n';
    // Each pass either takes the lock, fails on a live holder, or removes one stale lock.
    for (let pass = 0; pass < 5; pass++) {
      if (tryCreate(target, file, text)) {
        held.set(file, text);
        if (!exitHook) {
          exitHook = true;
          process.on('exit', releaseAllSync);
        }
        return new SinkLock(file, text);
      }
      const seen = readHolder(file);
      if (!seen) continue; // released in between: try again
      if (!isStale(seen.holder, file)) throw new SinkError(busyMessage(target, file, seen.holder));
      if (takeOverStale(target, file, seen.text)) {
        log?.warn({ target, lock: file, holder: seen.holder }, `took over the lock on ${target}: its holder, pid ${seen.holder.pid} (pipeline ${seen.holder.pipeline}, started ${seen.holder.startedAt}), is no longer running`);
      }
    }
    throw new SinkError(`cannot lock ${target}: ${file} keeps changing (other runs are starting on the same path); try again`);
  }

  /** Remove the lock if it is still ours; never throws. */
  release(): void {
    if (held.get(this.file) !== this.text) return;
    held.delete(this.file);
    releaseSync(this.file, this.text);
  }
}

function tryCreate(target: string, file: string, text: string): boolean {
  const staging = tempSibling(target, 'lock');
  writeFileSync(staging, text, { flag: 'wx' });
  try {
    linkSync(staging, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkQuietly(staging);
  }
}

function readHolder(file: string): { holder: LockHolder; text: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isInteger(h.pid) && typeof h.hostname === 'string') return { holder: h, text };
  } catch {
    // not ours or damaged: reported as an unknown holder below
  }
  return { holder: { pid: 0, hostname: '?', startedAt: '?', pipeline: '?' }, text };
}

/** Dead on this host (or its pid now another process's), or our own pid without this process holding it (a lock this process leaked). */
function isStale(h: LockHolder, file: string): boolean {
  if (h.hostname !== os.hostname()) return false;
  if (h.pid === process.pid) return !held.has(file);
  if (h.pid <= 0) return false;
  return !processAlive(h.pid, h.pidStart);
}

/**
 * Move the stale lock aside (atomic: of two runs taking it over, one moves it), then check
 * that what was moved is the stale lock seen; if another run's fresh lock was moved
 * instead, put it back (link: never over a newer one).
 */
function takeOverStale(target: string, file: string, staleText: string): boolean {
  const aside = tempSibling(target, 'lock');
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const moved = readFileSync(aside, 'utf8');
  if (moved !== staleText) {
    try {
      linkSync(aside, file);
    } catch {
      // a newer lock took its place: that run goes on; ours will report it
    }
  }
  unlinkQuietly(aside);
  return moved === staleText;
}

function releaseSync(file: string, text: string): void {
  try {
    if (readFileSync(file, 'utf8') === text) unlinkSync(file);
  } catch {
    // gone already
  }
}

function releaseAllSync(): void {
  for (const [file, text] of held) releaseSync(file, text);
  held.clear();
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function busyMessage(target: string, file: string, h: LockHolder): string {
  if (h.pid === 0) return `${target} is locked by ${file}, which sluice cannot read; if no run is writing ${target}, remove that file`;
  const who = `${target} is being written by pid ${h.pid} (pipeline ${h.pipeline}, started ${h.startedAt}) on host ${h.hostname}`;
  return h.hostname === os.hostname()
    ? `${who}: one run writes a sink path at a time; wait for it to finish or stop it`
    : `${who}: one run writes a sink path at a time; wait for it to finish, or if it is gone, remove ${file}`;
}
