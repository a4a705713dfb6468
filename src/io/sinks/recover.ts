/**
 * Recovery of a sink target after dead runs, under its lock: first any commit journal beside
 * it is finished (rolled forward: journal.ts), then what dead runs left is cleaned up or put
 * back (siblings.ts). Every open of a sink does it; `sluice recover` does only this.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { finishJournals } from './journal';
import { SinkLock } from './lock';
import { recoverSiblings } from './siblings';

/** Recover `target` (its lock held); `held`: the other targets whose locks the caller holds. Returns what it did, in words. */
export async function recoverTarget(target: string, opts: { log?: Logger; held?: ReadonlySet<string>; pipeline?: string } = {}): Promise<string[]> {
  const finished = await finishJournals(target, opts);
  return [...finished, ...(await recoverSiblings(target, opts.log))];
}

/**
 * `sluice recover`: lock every target (all or none), recover each, release. Returns, per
 * target, what was done (empty: nothing to do).
 */
export async function recoverTargets(targets: string[], opts: { log?: Logger; pipeline?: string } = {}): Promise<{ target: string; done: string[] }[]> {
  const unique = [...new Set(targets.map((t) => path.resolve(t)))];
  const locks: SinkLock[] = [];
  try {
    for (const t of unique) locks.push(SinkLock.acquire(t, opts.pipeline ?? 'sluice recover', opts.log));
    const held = new Set(unique);
    const out: { target: string; done: string[] }[] = [];
    for (const target of unique) out.push({ target, done: await recoverTarget(target, { ...opts, held }) });
    return out;
  } finally {
    for (const lock of locks) lock.release();
  }
}
