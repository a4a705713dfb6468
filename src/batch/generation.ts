/**
 * A stage that keeps a batch past `process()` without copying it (documented misuse: its
 * memory is a recycled slab) would read whatever the slab holds later: the same rows twice,
 * or bytes no reader opens. Made loud here: each slab counts how often it was handed out again
 * (its generation, batch/slab.ts); the host notes the generation of every slab a stage's input
 * lies in (on the input's Data, and per slab for this thread), and checks what the stage
 * returns against it on return from process() and flush() (cheap: a walk over the output's
 * Data, no bytes read). A slab the output points into that is not the call's input's but was
 * an earlier call's (whether it has moved on yet or not: that is timing), or that nobody holds
 * any more (it will be reused at any moment), is the misuse.
 *
 * SLUICE_STRICT_SLABS=1 checks everywhere else too: batches rebuilt from shared memory are
 * stamped with their slabs' generations, and each stage's input and each batch the sink
 * writes must still lie in memory at those generations, held (an ownership bug of the engine
 * itself shows there, at the hand-off that read recycled memory).
 */
import type { Data, RecordBatch } from 'apache-arrow';
import { generationOf, isSlab, refCount } from './slab';

export const STRICT_SLABS = process.env.SLUICE_STRICT_SLABS === '1';

/** The generation each slab had when a stage got a batch lying in it, per Data it gave the stage. */
const seenOn = new WeakMap<Data, Map<SharedArrayBuffer, number>>();
/** ... and per slab, the last time a stage of this thread got it (for Data made since: slices, new batches). */
const lastSeen = new WeakMap<SharedArrayBuffer, number>();

type Buffers = Data & { variadicBuffers?: readonly ArrayBufferView[] };

function buffersOfData(d: Data): ArrayBufferView[] {
  const out: ArrayBufferView[] = [];
  for (const b of [d.valueOffsets, d.values, d.nullBitmap, d.typeIds, ...((d as Buffers).variadicBuffers ?? [])] as (ArrayBufferView | undefined)[]) if (b && b.byteLength > 0) out.push(b);
  return out;
}

function walk(batches: readonly RecordBatch[], visit: (d: Data) => void): void {
  const seen = new Set<Data>();
  // Defensive about shape: what a stage returned is checked before anything else looks at it.
  const go = (d: Data | undefined) => {
    if (!d || seen.has(d)) return;
    seen.add(d);
    visit(d);
    d.children?.forEach(go);
    d.dictionary?.data?.forEach(go);
  };
  for (const b of batches) go(b.data);
}

/** Note the slabs a stage's input lies in and their generations now; returns those slabs. */
export function noteInput(batches: readonly RecordBatch[]): Set<SharedArrayBuffer> {
  const gens = new Map<SharedArrayBuffer, number>();
  walk(batches, (d) => {
    for (const b of buffersOfData(d)) {
      const slab = b.buffer as SharedArrayBuffer;
      if (!gens.has(slab) && isSlab(slab)) gens.set(slab, generationOf(slab));
    }
    seenOn.set(d, gens);
  });
  for (const [slab, gen] of gens) lastSeen.set(slab, gen);
  return new Set(gens.keys());
}

/** Stamp the batches' Data with their slabs' generations now (strict mode: where they are rebuilt from shared memory). */
export function noteGenerations(batches: readonly RecordBatch[]): void {
  const gens = new Map<SharedArrayBuffer, number>();
  walk(batches, (d) => {
    for (const b of buffersOfData(d)) {
      const slab = b.buffer as SharedArrayBuffer;
      if (!gens.has(slab) && isSlab(slab)) gens.set(slab, generationOf(slab));
    }
    if (!seenOn.has(d)) seenOn.set(d, gens);
  });
}

/**
 * Why batches that are held (a stage's input, what the sink writes) do not lie in their own
 * memory any more: a stamped slab moved on, or nobody holds it. Undefined when they do.
 */
export function movedOn(batches: readonly RecordBatch[]): string | undefined {
  let why: string | undefined;
  walk(batches, (d) => {
    const gens = seenOn.get(d);
    if (why || !gens) return;
    for (const b of buffersOfData(d)) {
      const sab = b.buffer as SharedArrayBuffer;
      const then = gens.get(sab);
      if (then === undefined) continue;
      if (then !== generationOf(sab)) why = 'its memory was reused for another batch';
      else if (refCount(sab) === 0) why = 'its memory was released';
      if (why) return;
    }
  });
  return why;
}

/**
 * Why the batches (what a stage returned: record batches, not DataFrames, which are converted
 * into fresh slabs after) point into memory that is no longer theirs, or undefined. `current`:
 * the slabs of the input the stage is working on now (held for it).
 */
export function staleMemory(batches: readonly RecordBatch[], current: ReadonlySet<SharedArrayBuffer> = new Set()): string | undefined {
  let why: string | undefined;
  const slabs = new Map<ArrayBufferLike, boolean>();
  walk(batches, (d) => {
    if (why) return;
    for (const b of buffersOfData(d)) {
      const slab = b.buffer;
      if (current.has(slab as SharedArrayBuffer)) continue;
      let shared = slabs.get(slab);
      if (shared === undefined) slabs.set(slab, (shared = isSlab(slab)));
      if (!shared) continue;
      const sab = slab as SharedArrayBuffer;
      const then = seenOn.get(d)?.get(sab) ?? lastSeen.get(sab);
      // A slab a stage of this thread got as input before, and not this call's: kept from an
      // earlier call. Reused since (the rows it shows are another batch's) or not yet, it is
      // misuse either way: whether it is reused by now is a matter of timing.
      if (then !== undefined && then !== generationOf(sab)) why = 'its memory was reused for another batch since (the rows it shows now are not its own)';
      else if (then !== undefined || refCount(sab) === 0) why = 'its memory is released when the call that got it returns, and is reused for another batch';
      if (why) return;
    }
  });
  return why;
}

/** The message for a stage that returned such a batch. */
export function keptBatchMessage(why: string): string {
  return `it returned a batch that it kept from an earlier call without copying it: ${why}. A batch is valid only until the call that got it returns; copy what you keep (ctx.toDataFrame(batch), or tableFromIPC(tableToIPC(...)))`;
}
