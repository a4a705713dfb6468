/**
 * The scheduler's decisions as plain functions: a topology snapshot in, a decision out. No
 * promises, no executors, no clock: each case is a state the engine can be in.
 */
import { tableFromArrays } from 'apache-arrow';
import { OwnedBatch } from '../../../src/batch/owned';
import { Channel } from '../../../src/runtime/channel';
import { nextDecision, sourceWait, stageWait, type Snapshot } from '../../../src/runtime/decide';
import { POLICIES, type BackpressurePolicy, type ChannelView, type StageView } from '../../../src/runtime/policies';

const channel = (over: Partial<ChannelView> = {}): ChannelView => ({
  depth: 0,
  bytes: 0,
  capacity: 4,
  capacityBytes: 1 << 20,
  closed: false,
  ready: 0,
  headBytes: 0,
  drained: false,
  ...over,
});
const stage = (over: Partial<StageView> = {}): StageView => ({ name: 's', inFlight: 0, slots: 2, flushStarted: false, ...over });

/** One stage between source and sink, everything idle and empty unless overridden. */
function snapshot(over: { stage?: Partial<StageView>; input?: Partial<ChannelView>; output?: Partial<ChannelView>; source?: Partial<Snapshot['source']>; sinkBusy?: boolean } = {}): Snapshot {
  return {
    stages: [stage(over.stage)],
    channels: [channel(over.input), channel(over.output)],
    source: { reading: false, done: false, lastBytes: 0, ...over.source },
    sinks: [{ busy: over.sinkBusy ?? false }],
  };
}

describe('nextDecision', () => {
  it('writes first: a ready item at the sink goes before new work is dispatched or read', () => {
    expect(nextDecision(snapshot({ input: { ready: 1, depth: 1 }, output: { ready: 1, depth: 1 } }))).toEqual({ kind: 'write', sink: 0 });
  });

  it('one write at a time: a busy sink lets the stage and the source go on', () => {
    expect(nextDecision(snapshot({ sinkBusy: true, input: { ready: 1, depth: 1 }, output: { ready: 1, depth: 1 } }))).toEqual({ kind: 'dispatch', stage: 0 });
  });

  it('credit exhausted: a full output channel holds the stage back, and says so', () => {
    const s = snapshot({ sinkBusy: true, input: { ready: 2, depth: 2 }, output: { depth: 4, ready: 0 }, source: { done: true } });
    expect(nextDecision(s)).toBeUndefined();
    expect(stageWait(s, 0)).toEqual({ state: 'held', reason: 'held: output full' });
  });

  it('credit by bytes: an item that would overflow the byte capacity waits; an empty channel takes any size', () => {
    const full = snapshot({ input: { ready: 1, depth: 1, headBytes: 600 }, output: { depth: 1, bytes: 500, capacityBytes: 1000 }, sinkBusy: true, source: { done: true } });
    expect(nextDecision(full)).toBeUndefined();
    const empty = snapshot({ input: { ready: 1, depth: 1, headBytes: 5000 }, output: { capacityBytes: 1000 }, source: { done: true } });
    expect(nextDecision(empty)).toEqual({ kind: 'dispatch', stage: 0 });
  });

  it('slots exhausted: every copy busy holds the stage back with its own reason', () => {
    const s = snapshot({ stage: { inFlight: 2, slots: 2 }, input: { ready: 1, depth: 1 }, output: { depth: 2 }, source: { done: true } });
    expect(nextDecision(s)).toBeUndefined();
    expect(stageWait(s, 0)).toEqual({ state: 'working', reason: 'busy: every copy working' });
  });

  it('reads when the first channel grants credit, and not while a read is in progress', () => {
    expect(nextDecision(snapshot())).toEqual({ kind: 'read' });
    expect(nextDecision(snapshot({ source: { reading: true } }))).toBeUndefined();
    const full = snapshot({ input: { depth: 4 }, source: {} });
    expect(nextDecision(full)).toBeUndefined();
    expect(sourceWait(full)).toEqual({ state: 'held', reason: 'held: output full' });
  });

  it('flush ordering: a stage flushes only once its input is drained and nothing is in flight', () => {
    expect(nextDecision(snapshot({ stage: { inFlight: 1 }, input: { drained: true, closed: true }, source: { done: true } }))).toBeUndefined();
    expect(nextDecision(snapshot({ input: { drained: true, closed: true }, source: { done: true } }))).toEqual({ kind: 'flush', stage: 0 });
    expect(nextDecision(snapshot({ stage: { flushStarted: true, inFlight: 1 }, input: { drained: true, closed: true }, source: { done: true } }))).toBeUndefined();
  });

  it('flush ordering downstream first: the last stage flushes before an upstream one is considered', () => {
    const s: Snapshot = {
      stages: [stage({ name: 'a' }), stage({ name: 'b' })],
      channels: [channel({ drained: true, closed: true }), channel({ drained: true, closed: true }), channel()],
      source: { reading: false, done: true, lastBytes: 0 },
      sinks: [{ busy: false }],
    };
    expect(nextDecision(s)).toEqual({ kind: 'flush', stage: 1 });
  });

  it('finishes when the sink channel is drained and no write is running', () => {
    expect(nextDecision(snapshot({ output: { drained: true, closed: true }, source: { done: true } }))).toEqual({ kind: 'finish' });
    expect(nextDecision(snapshot({ sinkBusy: true, output: { drained: true, closed: true }, source: { done: true } }))).toBeUndefined();
  });

  it('any policy saying no holds the stage back: a new rule is one object', () => {
    const budget: BackpressurePolicy = { name: 'memory budget', holdBack: () => 'held: memory budget' };
    const s = snapshot({ input: { ready: 1, depth: 1 }, source: { done: true } });
    expect(nextDecision(s, [...POLICIES, budget])).toBeUndefined();
    expect(stageWait(s, 0, [...POLICIES, budget])).toEqual({ state: 'held', reason: 'held: memory budget' });
  });

  it('idle reasons: no input yet, or input finished', () => {
    expect(stageWait(snapshot(), 0).reason).toBe('idle: no input');
    expect(stageWait(snapshot({ stage: { flushStarted: false }, input: { drained: true, closed: true } }), 0).reason).toBe('idle: input finished');
  });
});

describe('ordered vs unordered release (channels as the decisions see them)', () => {
  const owned = (seq: number) => OwnedBatch.plain(seq, tableFromArrays({ x: Int32Array.of(seq) }).batches);

  it.each([
    [true, 0],
    [false, 1],
  ])('ordered=%s: the later batch finishing first leaves %i item(s) ready for the sink', (ordered, readyAfterLate) => {
    const out = new Channel('s→sink', { capacity: 4, capacityBytes: 1 << 20 }, ordered);
    const [r0, r1] = [out.reserve(0), out.reserve(0)];
    out.fulfil(r1, owned(1));
    const s = snapshot({ output: out.view(), sinkBusy: false, source: { done: true } });
    expect(out.view().ready).toBe(readyAfterLate);
    expect(nextDecision(s)).toEqual(readyAfterLate ? { kind: 'write', sink: 0 } : undefined);
    out.fulfil(r0, owned(0));
    expect(nextDecision(snapshot({ output: out.view(), source: { done: true } }))).toEqual({ kind: 'write', sink: 0 });
    for (const item of out.drainAll()) item.release();
  });
});
