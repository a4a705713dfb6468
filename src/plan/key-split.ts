/**
 * Where a keyed stage's input is cut by key (a pure decision, like runtime/decide.ts): in the
 * producer, before its output crosses to the main thread, when the producer runs off the main
 * thread and the keyed stage is its only reader; else on the main thread (executors/keyed.ts).
 *
 *   - a thread stage's copy, or the source thread: cuts its output into slabs it then posts,
 *     so the main thread only routes the parts (no hash, no copy there);
 *   - a process stage's child: cuts before it frames its output (each part a record batch of
 *     the IPC stream it sends anyway);
 *   - an inline producer (or a source read on the main thread) runs on the main thread: the cut
 *     is made there either way, by the keyed stage, with no extra hand-off;
 *   - a producer with several readers (fan-out): its batches are shared as they are with the
 *     others, which must see them whole and in order: the keyed stage cuts its share itself.
 */
import type { StageMode } from '../config/types';
import type { SplitOut } from '../protocol/key-split';

export interface KeyReader {
  name: string;
  key?: string[];
  copies: number;
}

export type CutWhere = { where: 'producer'; splitOut: SplitOut } | { where: 'main'; why: string };

/**
 * `producer`: the stage's mode, `'source thread'` or `'source'` (read on the main thread);
 * `readers`: every stage that reads it (sinks count as readers without a key).
 * Undefined when no keyed stage at more than one copy reads it.
 */
export function cutWhere(producer: StageMode | 'source thread' | 'source', readers: readonly (KeyReader | 'sink')[]): CutWhere | undefined {
  const keyed = readers.find((r): r is KeyReader => r !== 'sink' && !!r.key?.length && r.copies > 1);
  if (!keyed) return undefined;
  if (readers.length > 1) return { where: 'main', why: 'its producer has other readers, which get the batches whole' };
  if (producer === 'inline' || producer === 'source') return { where: 'main', why: 'its producer runs on the main thread' };
  return { where: 'producer', splitOut: { stage: keyed.name, key: [...keyed.key!], copies: keyed.copies } };
}
