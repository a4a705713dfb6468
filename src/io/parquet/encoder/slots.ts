/**
 * The few shared-memory slots batches reach the encoder threads through: a ring of reused
 * SharedArrayBuffers (warm memory: a copy at memcpy speed, no fresh allocation per batch), or a
 * hold on a slab a batch is read from in place. All busy = the caller waits (backpressure);
 * a slot is free again when its thread says it has read it.
 */
import type { Lease } from '../../../batch/owned';

export class SlotRing {
  private readonly slots: { sab: SharedArrayBuffer; free: boolean; hold?: Lease }[] = [];
  private readonly waiters: { resolve: (slot: number) => void; reject: (e: Error) => void }[] = [];
  /** Buffers allocated or grown, and milliseconds callers waited for a free slot. */
  allocations = 0;
  waitMs = 0;

  constructor(count: number) {
    for (let i = 0; i < count; i++) this.slots.push({ sab: new SharedArrayBuffer(0), free: true });
  }

  /** A free slot's number; waits while every slot is busy. */
  take(): Promise<number> {
    const free = this.slots.findIndex((s) => s.free);
    if (free >= 0) {
      this.slots[free].free = false;
      return Promise.resolve(free);
    }
    const since = performance.now();
    return new Promise<number>((resolve, reject) => this.waiters.push({ resolve, reject })).finally(() => (this.waitMs += performance.now() - since));
  }

  /** The slot's buffer with room for `length` bytes (grown with headroom, so slightly bigger batches later fit). */
  bytes(slot: number, length: number): Uint8Array {
    const s = this.slots[slot];
    if (s.sab.byteLength < length) {
      s.sab = new SharedArrayBuffer(Math.ceil(length * 1.25));
      this.allocations++;
    }
    return new Uint8Array(s.sab, 0, length);
  }

  buffer(slot: number): SharedArrayBuffer {
    return this.slots[slot].sab;
  }

  /** The slot holds `lease` (a slab read in place) until it is freed. */
  hold(slot: number, lease: Lease): void {
    this.slots[slot].hold = lease;
  }

  free(slot: number): void {
    this.slots[slot].hold?.release();
    this.slots[slot].hold = undefined;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(slot);
    else this.slots[slot].free = true;
  }

  /** Every waiting caller fails with `err`. */
  fail(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** Only once no thread can still read them: the holds end and the slabs may be reused. */
  releaseHolds(): void {
    for (const s of this.slots) {
      s.hold?.release();
      s.hold = undefined;
    }
  }
}
