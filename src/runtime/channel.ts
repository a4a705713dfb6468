/**
 * A bounded channel between two neighbours, with credit: a producer reserves a slot
 * *before* it starts work, so a finished batch always has a place to go and the number
 * of items in flight is bounded by construction (DESIGN invariant 2).
 *
 * Depth counts reserved slots (work in progress), items waiting to be reordered and
 * items ready for the consumer. In ordered mode items leave in sequence order.
 *
 * In either mode a sequence number enters once: a second item with the same number (a result
 * given twice) is refused, naming the channel, before it could be written twice.
 */
import type { OwnedBatch } from '../batch/owned';
import type { ChannelBounds } from '../plan/types';
import { hasCredit, type ChannelView } from './policies';
import { ReorderBuffer } from './reorder';
import { SeqFence } from './seq-fence';

export interface Reservation {
  readonly bytes: number;
}

export class Channel {
  private reservedCount = 0;
  private reservedBytes = 0;
  private heldBytes = 0;
  private readonly ready: OwnedBatch[] = [];
  private readonly reorder: ReorderBuffer<OwnedBatch> | undefined;
  /** Unordered mode's check that each number enters once (the reorder buffer is ordered mode's). */
  private readonly fence: SeqFence | undefined;
  private closed = false;
  peakDepth = 0;
  peakBytes = 0;
  /** What passed through to the reader (counted as it takes it): the edge's figures in the report. */
  readonly passed = { batches: 0, rows: 0, bytes: 0 };
  /** Time its producer was held back because this channel had no credit (accounted by the scheduler). */
  creditWaitMs = 0;
  /** Its producer is held back by it now (set by the scheduler after every decision). */
  holdingBack = false;

  constructor(
    readonly name: string,
    readonly bounds: ChannelBounds,
    ordered: boolean,
  ) {
    this.reorder = ordered ? new ReorderBuffer<OwnedBatch>() : undefined;
    this.fence = ordered ? undefined : new SeqFence();
  }

  /** OwnedBatchs reserved, reordering or ready. */
  get depth(): number {
    return this.reservedCount + (this.reorder?.size ?? 0) + this.ready.length;
  }

  get bytes(): number {
    return this.heldBytes + this.reservedBytes;
  }

  /** Room for one more item of about `bytes`? (policies.ts: an empty channel always has room.) */
  hasCredit(bytes: number): boolean {
    return hasCredit(this.view(), bytes);
  }

  /** The plain data the scheduler's decisions look at (runtime/decide.ts). */
  view(): ChannelView {
    return {
      depth: this.depth,
      bytes: this.bytes,
      capacity: this.bounds.capacity,
      capacityBytes: this.bounds.capacityBytes,
      closed: this.closed,
      ready: this.ready.length,
      headBytes: this.peekBytes(),
      drained: this.drained,
    };
  }

  reserve(bytes: number): Reservation {
    if (this.closed) throw new Error(`channel ${this.name}: reserve after close`);
    this.reservedCount++;
    this.reservedBytes += bytes;
    this.notePeak();
    return { bytes };
  }

  /**
   * Turn a reservation into an item; the channel holds it until `take()`. An item whose number
   * entered before is released and refused (a bug in sluice): the run fails instead of writing
   * its rows twice.
   */
  fulfil(reservation: Reservation, item: OwnedBatch): void {
    if (this.reorder ? !this.reorder.accepts(item.seq) : this.fence!.seen(item.seq)) {
      item.release();
      throw new Error(`channel ${this.name}: a second result for batch #${item.seq} (a bug in sluice: each batch gives one result; please report it with the run's log)`);
    }
    this.reservedCount--;
    this.reservedBytes -= reservation.bytes;
    this.heldBytes += item.bytes;
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
  force(item: OwnedBatch): void {
    this.fulfil(this.reserve(0), item);
  }

  hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** Bytes of the item `take()` would return (0 when none). */
  peekBytes(): number {
    const item = this.ready[0];
    return item ? item.bytes : 0;
  }

  take(): OwnedBatch {
    const item = this.ready.shift();
    if (!item) throw new Error(`channel ${this.name}: take from empty channel`);
    this.heldBytes -= item.bytes;
    this.passed.batches += item.batches.length;
    this.passed.rows += item.rows;
    this.passed.bytes += item.bytes;
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
  drainAll(): OwnedBatch[] {
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
