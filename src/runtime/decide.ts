/**
 * The scheduler's choices as plain functions of a snapshot (Ray Data's
 * `select_operator_to_run`): what to do next, and why each stage waits. No promises, no
 * clocks; the loop in scheduler.ts takes a snapshot, applies the decision, and asks again
 * until there is nothing to do.
 *
 * The run is a graph: every stage reads one channel, fed by the source or an earlier stage;
 * a producer read by several stages or sinks writes each batch into each of their channels,
 * so it moves only when every one of them grants credit (the slowest reader holds it back).
 *
 * Priority is downstream first, so room freed near the sinks is used before new work is read:
 *   1. write a sink's next ready item (one write at a time per sink);
 *   2. from the last stage to the first: dispatch a ready input if every policy agrees for
 *      every channel it writes, or flush a stage whose input is drained and that has nothing
 *      in flight;
 *   3. read one batch from the source if every channel it writes grants credit.
 * The run is finished when every sink's channel is drained and no write is in progress.
 */
import { POLICIES, hasCredit, type BackpressurePolicy, type ChannelView, type StageView } from './policies';

export interface Snapshot {
  stages: readonly StageView[];
  /** `channels[i]` feeds stage i; `channels[stages.length + k]` feeds sink k. */
  channels: readonly ChannelView[];
  /**
   * The channels each producer writes: `outputs[0]` the source's, `outputs[i + 1]` stage i's.
   * Absent: a line, where each writes the next channel and the last stage the one sink's.
   */
  outputs?: readonly (readonly number[])[];
  source: { reading: boolean; done: boolean; /** Bytes of the last batch read: the credit a read asks. */ lastBytes: number };
  sinks: readonly { busy: boolean }[];
}

export type Decision =
  | { kind: 'write'; sink: number }
  | { kind: 'dispatch'; stage: number }
  | { kind: 'flush'; stage: number }
  | { kind: 'read' }
  | { kind: 'finish' };

/** The channels producer `p` writes (-1: the source). */
export function outputsOf(s: Pick<Snapshot, 'outputs'>, p: number): readonly number[] {
  return s.outputs ? s.outputs[p + 1] : [p + 1];
}

/** The next thing to do, or `undefined` when everything waits for an event. */
export function nextDecision(s: Snapshot, policies: readonly BackpressurePolicy[] = POLICIES): Decision | undefined {
  const n = s.stages.length;
  let finished = true;
  for (let k = 0; k < s.sinks.length; k++) {
    const input = s.channels[n + k];
    if (!s.sinks[k].busy && input.ready > 0) return { kind: 'write', sink: k };
    if (s.sinks[k].busy || !input.drained) finished = false;
  }
  if (finished) return { kind: 'finish' };
  for (let i = n - 1; i >= 0; i--) {
    const input = s.channels[i];
    if (input.ready > 0 && holdBack(s, i, policies) === undefined) return { kind: 'dispatch', stage: i };
    const stage = s.stages[i];
    if (!stage.flushStarted && input.drained && stage.inFlight === 0) return { kind: 'flush', stage: i };
  }
  if (!s.source.reading && !s.source.done && outputsOf(s, -1).every((o) => hasCredit(s.channels[o], s.source.lastBytes))) return { kind: 'read' };
  return undefined;
}

/** The first policy's "no" for stage i's next input, for any channel it writes, if any. */
export function holdBack(s: Snapshot, i: number, policies: readonly BackpressurePolicy[] = POLICIES): string | undefined {
  const stage = s.stages[i];
  const input = s.channels[i];
  for (const o of outputsOf(s, i)) {
    for (const policy of policies) {
      const reason = policy.holdBack(stage, s.channels[o], input.headBytes);
      if (reason !== undefined) return reason;
    }
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
  if (stage.flushStarted && outputsOf(s, i).every((o) => s.channels[o].closed)) return { state: 'done', reason: 'done' };
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
  return outputsOf(s, -1).every((o) => hasCredit(s.channels[o], s.source.lastBytes)) ? { state: 'idle', reason: 'idle' } : { state: 'held', reason: 'held: output full' };
}
