/**
 * Which inline stage the main thread is running, carried through the stage's own timers,
 * callbacks and promises (AsyncLocalStorage follows async resources), so an error the stage
 * throws outside the promise the executor awaits, or a `process.exit()` it calls, can still
 * be blamed on that stage, copy and batch (runtime/guard.ts reads it). Listeners hear when
 * such work starts and ends: the CLI's death watch (cli/death-watch.ts) keeps the last word
 * of a process that dies where no JavaScript runs any more (out of memory, a native crash).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { StageError, type BatchLocation } from '../errors';
import { withDeadline } from '../supervisor/attempts';

export interface InlineWork extends BatchLocation {
  phase: 'load' | 'setup' | 'process' | 'flush' | 'combine';
  /**
   * The stage's `timeout`: the work must end by then. A promise that never settles is ended
   * here (withTimeout); a busy loop holds the main thread, so only the death watch's process
   * can end the run (cli/watcher.cjs kills it a little after this deadline, naming the work).
   */
  timeoutMs?: number;
}

export const inlineWork = new AsyncLocalStorage<InlineWork>();

type Listener = (event: 'start' | 'end', id: number, work: InlineWork) => void;
const listeners = new Set<Listener>();
let nextId = 0;

/** Listen to inline work starting and ending; returns the way to stop. */
export function onInlineWork(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Run `fn` as `work`: in its async context, announced to the listeners. */
export async function runInline<T>(work: InlineWork, fn: () => Promise<T>): Promise<T> {
  if (listeners.size === 0) return inlineWork.run(work, fn);
  const id = nextId++;
  for (const l of listeners) l('start', id, work);
  try {
    return await inlineWork.run(work, fn);
  } finally {
    for (const l of listeners) l('end', id, work);
  }
}

/** `work`, or a StageError naming `where` once `ms` passed (undefined: no limit). A late result is given to `discard`. */
export function withTimeout<T>(work: Promise<T>, ms: number | undefined, where: BatchLocation & { phase: StageError['phase'] }, discard: (late: T) => void): Promise<T> {
  return withDeadline(
    work,
    ms,
    () => {
      const why = new Error(`no answer within its timeout of ${ms! % 1000 === 0 ? `${ms! / 1000} s` : `${ms} ms`}`);
      return new StageError(where, where.phase, why, 'an inline stage runs on the main thread and cannot be replaced; its promise is abandoned');
    },
    discard,
  );
}
