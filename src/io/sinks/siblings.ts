/**
 * sluice's hidden siblings of a sink target, named `.<name>.sluice-<tag>-<pid>-<start>-<hex>`:
 * `tmp` (output being written), `old` (the previous directory output moved aside during a
 * commit), `lock` (a lock file being created or taken over), `jrnl` (a copy of the journal of
 * a commit of several outputs, journal.ts: never removed here, only by finishing its commit). A run that died (second
 * Ctrl-C, SIGHUP, SIGKILL, power loss) leaves them behind; the next run on the same target
 * removes them, and puts a moved-aside output back when the commit never finished. Only
 * siblings whose writer is dead on this host are touched. A pid alone does not say so: pids
 * are reused (pid 1 in a container is always alive), so the name also carries when its
 * writer started (`<start>`, Linux), and a live pid that started at another time is not it.
 * Names without a start (older sluice, other systems) fall back to the pid alone.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

export type SiblingTag = 'tmp' | 'old' | 'lock' | 'jrnl';

export interface Sibling {
  path: string;
  tag: SiblingTag;
  pid: number;
  /** When the writer started (clock ticks since boot), if the name says. */
  start?: string;
}

let ownStart: string | undefined | null = null;
/** This process's start, read once (it never changes). */
function myStart(): string | undefined {
  if (ownStart === null) ownStart = processStart(process.pid);
  return ownStart;
}

/** A hidden sibling name of this process: `.<name>.sluice-<tag>-<pid>-<start>-<random>`. */
export function tempSibling(target: string, tag: SiblingTag = 'tmp'): string {
  const start = myStart();
  return path.join(path.dirname(target), `.${path.basename(target)}.sluice-${tag}-${process.pid}-${start !== undefined ? `${start}-` : ''}${randomBytes(4).toString('hex')}`);
}

export function listSiblings(target: string): Sibling[] {
  const prefix = `.${path.basename(target)}.sluice-`;
  const dir = path.dirname(target);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: Sibling[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(tmp|old|lock|jrnl)-(\d+)-(?:(\d+)-)?[0-9a-f]{8}$/.exec(name.slice(prefix.length));
    if (m) out.push({ path: path.join(dir, name), tag: m[1] as SiblingTag, pid: Number(m[2]), ...(m[3] !== undefined && { start: m[3] }) });
  }
  return out;
}

/**
 * Whether `pid` is a live process on this host (EPERM: alive, owned by someone else). A zombie
 * is not: signal 0 still reaches a process that died and was not yet reaped, and where its parent
 * died with it (`kill -9` of a run's whole group) and pid 1 reaps late or never (a container
 * without an init), a run killed that way kept its sinks locked and `--resume` was refused.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !dead(processState(pid));
}

/** Z: a zombie; X: dead (Linux /proc). */
const dead = (state: string | undefined) => state === 'Z' || state === 'X';

/** Field 3 of /proc/<pid>/stat (R, S, D, Z, …), or undefined where there is no /proc. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/**
 * When `pid` started, in clock ticks since boot (Linux /proc), or undefined elsewhere: with
 * the pid it tells a process from a later one that reused its pid.
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether the process that wrote `pid` (and, where known, started at `start`) still runs on
 * this host: its pid is live and, if both starts can be read, the live one started when the
 * writer did. One rule for every pid sluice checks (siblings, the sink lock).
 */
export function processAlive(pid: number, start?: string): boolean {
  if (!pidAlive(pid)) return false;
  if (start === undefined) return true;
  const now = processStart(pid);
  return now === undefined || now === start;
}

/**
 * Clean up after dead runs on `target`; call it holding the target's lock, after any commit
 * journal beside it was finished (journal.ts). A commit that died between moving the old
 * directory aside and renaming the new one in, without a journal, left the target missing:
 * the newest moved-aside output goes back (the dead run never finished, so its output is not
 * the result). Everything else of dead pids is removed, each removal logged. Returns what it
 * did, in words.
 */
export async function recoverSiblings(target: string, log?: Logger): Promise<string[]> {
  const done: string[] = [];
  const dead = listSiblings(target).filter((s) => s.tag !== 'jrnl' && !processAlive(s.pid, s.start));
  if (!existsSync(target)) {
    const olds = dead.filter((s) => s.tag === 'old').sort((a, b) => statSync(b.path).mtimeMs - statSync(a.path).mtimeMs);
    if (olds[0]) {
      await rename(olds[0].path, target);
      dead.splice(dead.indexOf(olds[0]), 1);
      const said = `restored ${target}: a run (pid ${olds[0].pid}) died while replacing it`;
      log?.warn({ target, from: olds[0].path, pid: olds[0].pid }, said);
      done.push(said);
    }
  }
  for (const s of dead) {
    await rm(s.path, { recursive: true, force: true });
    const said = `removed ${s.path}, left behind by a run that died (pid ${s.pid})`;
    log?.warn({ target, removed: s.path, pid: s.pid }, said);
    done.push(said);
  }
  return done;
}
