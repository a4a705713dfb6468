/**
 * The scheduler's choices as plain functions of a snapshot (Ray Data's
 * `select_operator_to_run`): what to do next, and why each stage waits. No promises, no
 * clocks; the loop in scheduler.ts takes a snapshot, applies the decision, and asks again
 * until there is nothing to do.
 *
 * Priority is downstream first, so room freed near the sink is used before new work is read:
 *   1. write the sink's next ready item (one write at a time);
 *   2. from the last stage to the first: dispatch a ready input if every policy agrees, or
 *      flush a stage whose input is drained and that has nothing in flight;
 *   3. read one batch from the source if the first channel grants credit.
 * The run is finished when the sink's channel is drained and no write is in progress.
 */
import { POLICIES, hasCredit, type BackpressurePolicy, type ChannelView, type StageView } from './policies';

export interface Snapshot {
  stages: readonly StageView[];
  /** `channels[i]` feeds stage i; the last one feeds the sink. */
  channels: readonly ChannelView[];
  source: { reading: boolean; done: boolean; /** Bytes of the last batch read: the credit a read asks. */ lastBytes: number };
  sink: { busy: boolean };
}

export type Decision =
  | { type: 'write' }
  | { type: 'dispatch'; stage: number }
  | { type: 'flush'; stage: number }
  | { type: 'read' }
  | { type: 'finish' };

/** The next thing to do, or `undefined` when everything waits for an event. */
export function nextDecision(s: Snapshot, policies: readonly BackpressurePolicy[] = POLICIES): Decision | undefined {
  const sinkInput = s.channels[s.channels.length - 1];
  if (!s.sink.busy && sinkInput.ready > 0) return { type: 'write' };
  if (!s.sink.busy && sinkInput.drained) return { type: 'finish' };
  for (let i = s.stages.length - 1; i >= 0; i--) {
    const input = s.channels[i];
    if (input.ready > 0 && holdBack(s, i, policies) === undefined) return { type: 'dispatch', stage: i };
    const stage = s.stages[i];
    if (!stage.flushStarted && input.drained && stage.inFlight === 0) return { type: 'flush', stage: i };
  }
  if (!s.source.reading && !s.source.done && hasCredit(s.channels[0], s.source.lastBytes)) return { type: 'read' };
  return undefined;
}

/** The first policy's "no" for stage i's next input, if any. */
export function holdBack(s: Snapshot, i: number, policies: readonly BackpressurePolicy[] = POLICIES): string | undefined {
  const stage = s.stages[i];
  const input = s.channels[i];
  const output = s.channels[i + 1];
  for (const policy of policies) {
    const reason = policy.holdBack(stage, output, input.headBytes);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** Why a stage is not working on more right now, in the words the display and report use. */
export type WaitState = 'working' | 'idle' | 'held' | 'done';

export interface StageWait {
  state: WaitState;
  /** e.g. `idle: no input`, `held: output full`, `busy: every copy working`. */
  reason: string;
}

export function stageWait(s: Snapshot, i: number, policies: readonly BackpressurePolicy[] = POLICIES): StageWait {
  const stage = s.stages[i];
  const input = s.channels[i];
  const output = s.channels[i + 1];
  if (stage.flushStarted && output.closed) return { state: 'done', reason: 'done' };
  if (stage.flushStarted) return { state: 'working', reason: 'busy: flush' };
  if (input.ready === 0) return { state: stage.inFlight > 0 ? 'working' : 'idle', reason: input.drained ? 'idle: input finished' : 'idle: no input' };
  const reason = holdBack(s, i, policies);
  if (reason === undefined) return { state: 'working', reason: 'busy' };
  return { state: reason.startsWith('busy') ? 'working' : 'held', reason };
}

/** Why the source is not reading: held back by the first channel, or done. */
export function sourceWait(s: Snapshot): StageWait {
  if (s.source.done) return { state: 'done', reason: 'done' };
  if (s.source.reading) return { state: 'working', reason: 'reading' };
  return hasCredit(s.channels[0], s.source.lastBytes) ? { state: 'idle', reason: 'idle' } : { state: 'held', reason: 'held: output full' };
}
