/**
 * Slabs: SharedArrayBuffers that carry batch buffers between threads, recycled through an
 * arena instead of allocated per batch (touching fresh memory costs ~10× a warm copy here).
 *
 * Each slab starts with a small header in the shared memory itself:
 *   Int32[0] magic 'SLIC' — any SharedArrayBuffer with it is a slab, in any thread
 *   Int32[1] reference count — leases that hold the slab; Atomics, so any thread may release
 *   Int32[2] generation — how often the arena handed it out again: a batch that still points
 *            into it from an earlier use (a stage that kept one past process()) sees it moved on
 * The thread that allocated a slab (its arena) reuses it once the count is back to 0.
 */

export const SLAB_HEADER = 64;
const MAGIC = 0x43494c53; // 'SLIC'
const MIN_SLAB = 64 * 1024;

/**
 * By tag, not `instanceof`: a SharedArrayBuffer that arrived by postMessage may belong to
 * another realm (a vm context such as jest's), where `instanceof` fails.
 */
export function isShared(buffer: ArrayBufferLike): buffer is SharedArrayBuffer {
  return Object.prototype.toString.call(buffer) === '[object SharedArrayBuffer]';
}

export function isSlab(buffer: ArrayBufferLike): buffer is SharedArrayBuffer {
  return isShared(buffer) && buffer.byteLength >= SLAB_HEADER && new Int32Array(buffer, 0, 1)[0] === MAGIC;
}

function counter(slab: SharedArrayBuffer): Int32Array {
  return new Int32Array(slab, 0, 3);
}

/** How often the slab was handed out again since it was made (batch/generation.ts). */
export function generationOf(slab: SharedArrayBuffer): number {
  return Atomics.load(counter(slab), 2);
}

export function retain(slab: SharedArrayBuffer): void {
  Atomics.add(counter(slab), 1, 1);
}

export function release(slab: SharedArrayBuffer): void {
  const before = Atomics.sub(counter(slab), 1, 1);
  if (before <= 0) throw new Error('slab released more often than retained');
}

export function refCount(slab: SharedArrayBuffer): number {
  return Atomics.load(counter(slab), 1);
}

export interface ArenaStats {
  slabs: number;
  bytesAllocated: number;
  allocations: number;
  reuses: number;
}

/** A per-thread pool of slabs. */
export class SlabArena {
  private readonly slabs: SharedArrayBuffer[] = [];
  readonly stats: ArenaStats = { slabs: 0, bytesAllocated: 0, allocations: 0, reuses: 0 };

  /** Most idle slabs kept for reuse; beyond that, idle slabs are dropped (GC frees them). */
  constructor(private readonly maxIdle = 32) {}

  /** A slab with at least `bytes` of data space, its count set to 1 (held by the caller). */
  acquire(bytes: number): SharedArrayBuffer {
    let best: SharedArrayBuffer | undefined;
    for (const slab of this.slabs) {
      if (slab.byteLength - SLAB_HEADER < bytes || refCount(slab) !== 0) continue;
      if (!best || slab.byteLength < best.byteLength) best = slab;
    }
    // Claim it atomically: 0 → 1. Only this thread acquires its own slabs, so this cannot race.
    if (best && Atomics.compareExchange(counter(best), 1, 0, 1) === 0) {
      Atomics.add(counter(best), 2, 1); // its old contents are gone for whoever still points here
      this.stats.reuses++;
      return best;
    }
    const size = SLAB_HEADER + roundUp(bytes);
    const slab = new SharedArrayBuffer(size);
    const head = counter(slab);
    head[0] = MAGIC;
    head[1] = 1;
    this.slabs.push(slab);
    this.stats.slabs = this.slabs.length;
    this.stats.allocations++;
    this.stats.bytesAllocated += size;
    this.trim();
    return slab;
  }

  /** Slabs of this arena some lease still holds (0 once every batch is done with). */
  get live(): number {
    return this.slabs.filter((s) => refCount(s) !== 0).length;
  }

  /** Drop idle slabs past `maxIdle`, smallest first (large ones are the expensive ones to remake). */
  private trim(): void {
    const idle = this.slabs.filter((s) => refCount(s) === 0);
    if (idle.length <= this.maxIdle) return;
    idle.sort((a, b) => a.byteLength - b.byteLength);
    const drop = new Set(idle.slice(0, idle.length - this.maxIdle));
    for (let i = this.slabs.length - 1; i >= 0; i--) if (drop.has(this.slabs[i])) this.slabs.splice(i, 1);
    this.stats.slabs = this.slabs.length;
  }

}

/** Power-of-two size classes above 64 KiB, so slabs fit batches of similar size again. */
function roundUp(bytes: number): number {
  let size = MIN_SLAB;
  while (size < bytes) size *= 2;
  return size;
}
