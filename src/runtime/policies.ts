/**
 * Backpressure as small named policies (Ray Data's `backpressure_policy/`): each looks at a
 * snapshot and either lets a stage take one more input or says why not. A stage is held back
 * if any policy says no; the first "no" is the reason the live display and the report show.
 * Adding a rule (a memory budget, a core budget) is adding one object to `POLICIES`.
 */

/** What the policies see of one channel. Plain data: the decisions are tested without promises. */
export interface ChannelView {
  /** Items reserved, reordering or ready. */
  depth: number;
  /** Bytes held or reserved. */
  bytes: number;
  capacity: number;
  capacityBytes: number;
  closed: boolean;
  /** Items the consumer may take now (in order, when ordered). */
  ready: number;
  /** Bytes of the item the consumer would take next (0 when none). */
  headBytes: number;
  /** Closed and nothing left or coming. */
  drained: boolean;
}

/** What the policies see of one stage. */
export interface StageView {
  name: string;
  /** Tasks running now (flush included). */
  inFlight: number;
  /** Tasks the stage may run at once (copies × tasks per copy). */
  slots: number;
  flushStarted: boolean;
}

export interface BackpressurePolicy {
  readonly name: string;
  /** `undefined`: this policy lets stage `i` take its next input; otherwise why not. */
  holdBack(stage: StageView, output: ChannelView, inputBytes: number): string | undefined;
}

/**
 * Room for one more item of about `bytes`? An empty channel always has room, so a single
 * batch larger than the byte capacity still moves (one at a time).
 */
export function hasCredit(channel: ChannelView, bytes: number): boolean {
  if (channel.closed) return false;
  if (channel.depth === 0) return true;
  return channel.depth < channel.capacity && channel.bytes + bytes <= channel.capacityBytes;
}

/** Nothing is dispatched unless its result has a reserved place downstream (DESIGN invariant 2). */
export const outputCredit: BackpressurePolicy = {
  name: 'output credit',
  holdBack: (_stage, output, bytes) => (hasCredit(output, bytes) ? undefined : 'held: output full'),
};

/** No more tasks than the copies can hold. */
export const copySlots: BackpressurePolicy = {
  name: 'copy slots',
  holdBack: (stage) => (stage.inFlight < stage.slots ? undefined : 'busy: every copy working'),
};

export const POLICIES: readonly BackpressurePolicy[] = [copySlots, outputCredit];
