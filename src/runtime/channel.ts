/**
 * A bounded channel between two neighbours, with credit: a producer reserves a slot
 * *before* it starts work, so a finished batch always has a place to go and the number
 * of items in flight is bounded by construction (DESIGN invariant 2).
 *
 * Depth counts reserved slots (work in progress), items waiting to be reordered and
 * items ready for the consumer. In ordered mode items leave in sequence order.
 */
import type { Item } from '../executors/types';
import type { ChannelBounds } from '../plan/types';
import { ReorderBuffer } from './reorder';

export interface Reservation {
  readonly bytes: number;
}

export class Channel {
  private reservedCount = 0;
  private reservedBytes = 0;
  private heldBytes = 0;
  private readonly ready: Item[] = [];
  private readonly reorder: ReorderBuffer<Item> | undefined;
  private closed = false;
  peakDepth = 0;
  peakBytes = 0;

  constructor(
    readonly name: string,
    readonly bounds: ChannelBounds,
    ordered: boolean,
  ) {
    this.reorder = ordered ? new ReorderBuffer<Item>() : undefined;
  }

  /** Items reserved, reordering or ready. */
  get depth(): number {
    return this.reservedCount + (this.reorder?.size ?? 0) + this.ready.length;
  }

  get bytes(): number {
    return this.heldBytes + this.reservedBytes;
  }

  /**
   * Room for one more item of about `bytes`? An empty channel always has room, so a
   * single batch larger than `capacityBytes` still moves (one at a time).
   */
  hasCredit(bytes: number): boolean {
    if (this.closed) return false;
    if (this.depth === 0) return true;
    return this.depth < this.bounds.capacity && this.bytes + bytes <= this.bounds.capacityBytes;
  }

  reserve(bytes: number): Reservation {
    if (this.closed) throw new Error(`channel ${this.name}: reserve after close`);
    this.reservedCount++;
    this.reservedBytes += bytes;
    this.notePeak();
    return { bytes };
  }

  /** Turn a reservation into an item (its bytes measured now). */
  fulfil(reservation: Reservation, item: Item, bytes: number): void {
    this.reservedCount--;
    this.reservedBytes -= reservation.bytes;
    this.heldBytes += bytes;
    itemBytes.set(item, bytes);
    if (this.reorder) this.ready.push(...this.reorder.put(item.seq, item));
    else this.ready.push(item);
    this.notePeak();
  }

  /** Give a reservation back unused (e.g. the source reached its end). */
  cancel(reservation: Reservation): void {
    this.reservedCount--;
    this.reservedBytes -= reservation.bytes;
  }

  /** Put an item without credit: only for the bounded handful of flush outputs. */
  force(item: Item, bytes: number): void {
    this.fulfil(this.reserve(0), item, bytes);
  }

  hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** Bytes of the item `take()` would return (0 when none). */
  peekBytes(): number {
    const item = this.ready[0];
    return item ? (itemBytes.get(item) ?? 0) : 0;
  }

  take(): Item {
    const item = this.ready.shift();
    if (!item) throw new Error(`channel ${this.name}: take from empty channel`);
    this.heldBytes -= itemBytes.get(item) ?? 0;
    itemBytes.delete(item);
    return item;
  }

  /** Producer is done; remaining items still drain. */
  close(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closed and nothing left or coming. */
  get drained(): boolean {
    return this.closed && this.depth === 0;
  }

  /** Everything still held (for releasing memory after a failure). */
  drainAll(): Item[] {
    const items = [...this.ready, ...(this.reorder?.drain() ?? [])];
    this.ready.length = 0;
    this.heldBytes = 0;
    return items;
  }

  private notePeak(): void {
    if (this.depth > this.peakDepth) this.peakDepth = this.depth;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
  }
}

const itemBytes = new WeakMap<Item, number>();

/** Bytes of the Arrow buffers behind an item's batches (dictionaries included). */
export function measureItem(item: Pick<Item, 'batches'>): number {
  let total = 0;
  for (const batch of item.batches) total += batch.data.byteLength;
  return total;
}
