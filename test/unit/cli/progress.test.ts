import { headline, renderProgress } from '../../../src/cli/progress';
import type { ProgressSnapshot, ProgressStage } from '../../../src/runtime/types';
import { encoderShare, waitReasonOf } from '../../../src/runtime/progress';

const stage = (over: Partial<ProgressStage>): ProgressStage => ({ name: 's', rowsOut: 0, rowsPerSec: 0, queueDepth: 0, inFlight: 0, busy: 0, copies: 1, done: false, ...over });

const snapshot = (stages: ProgressStage[], over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  elapsedMs: 2000,
  source: { rows: 1000, batches: 2, done: false },
  stages,
  sink: { rows: 10, queueDepth: 0 },
  ...over,
});

describe('renderProgress', () => {
  it('aligns every column under a long stage name', () => {
    const lines = renderProgress(
      snapshot([stage({ name: 'a-rather-long-stage-name-indeed', rowsOut: 12_345, rowsPerSec: 999, queueDepth: 3, inFlight: 1, busy: 1 }), stage({ name: 'x', rowsOut: 5, copies: 4, waitReason: 'idle: no input' })]),
    ).slice(1);
    expect(lines).toHaveLength(4); // source, 2 stages, sink
    const col = (needle: string) => lines.filter((l) => l.includes(needle)).map((l) => l.indexOf(needle));
    // the "rows" and "queue" columns line up on every line that has them
    const rowsEnd = lines.map((l) => l.indexOf(' rows') );
    expect(new Set(rowsEnd).size).toBe(1);
    expect(new Set(col('queue ')).size).toBe(1);
    expect(new Set(col('busy ')).size).toBe(1);
    expect(lines[1]).toMatch(/^a-rather-long-stage-name-indeed\s+12,345 rows\s+999 rows\/s\s+queue 3\s+busy 1\/1$/);
    expect(lines[2]).toMatch(/^x\s+5 rows\s+0 rows\/s\s+queue 0\s+busy 0\/4\s+idle: no input$/);
  });

  it('cuts a name too long for a terminal', () => {
    const [, , line] = renderProgress(snapshot([stage({ name: 'n'.repeat(80) })]));
    expect(line.startsWith('n'.repeat(31) + '…  ')).toBe(true);
  });

  it('shows busy copies never above the copies, with pipelined tasks as queued', () => {
    const [, , line] = renderProgress(snapshot([stage({ name: 'proc', inFlight: 2, busy: 1, copies: 1 })]));
    expect(line).toMatch(/busy 1\/1 \+1 queued/);
    expect(line).not.toMatch(/busy 2\/1/);
  });

  it('says why a stage waits, and done when it is', () => {
    const lines = renderProgress(snapshot([stage({ name: 'a', waitReason: 'held: output full' }), stage({ name: 'b', done: true })]));
    expect(lines[2]).toMatch(/held: output full$/);
    expect(lines[3]).toMatch(/done$/);
  });
});

describe('headline', () => {
  it('gives percent of the input read and the time left at the rate so far', () => {
    expect(headline(snapshot([], { input: { bytesRead: 25 * 1024, totalBytes: 100 * 1024 }, elapsedMs: 2000 }))).toBe('25.0% of 100 KiB read  ·  ETA 6.00 s  ·  2.00 s elapsed');
  });

  it('says no ETA before anything is read or once everything is, and only elapsed time without a known size', () => {
    expect(headline(snapshot([], { input: { bytesRead: 0, totalBytes: 1000 } }))).toBe('0.0% of 1000 B read  ·  2.00 s elapsed');
    expect(headline(snapshot([], { input: { bytesRead: 1000, totalBytes: 1000 } }))).toBe('100.0% of 1000 B read  ·  2.00 s elapsed');
    expect(headline(snapshot([], { input: { bytesRead: 5, totalBytes: 0 } }))).toBe('2.00 s elapsed');
    expect(headline(snapshot([]))).toBe('2.00 s elapsed');
  });
});

describe('waitReasonOf (derived from the scheduler counters until policies say)', () => {
  const m = (over: Partial<Parameters<typeof waitReasonOf>[0]>) => waitReasonOf({ waitReason: undefined, reason: 'idle', finished: false, inFlight: 0, executor: { copies: 2 }, ...over });
  it('names the wait of free copies', () => {
    expect(m({ reason: 'idle' })).toBe('idle: no input');
    expect(m({ reason: 'blocked', inFlight: 1 })).toBe('held: output full');
  });
  it('prefers a policy’s own words, and says nothing when every copy is busy or the stage is done', () => {
    expect(m({ waitReason: 'held: memory budget' })).toBe('held: memory budget');
    expect(m({ inFlight: 2, reason: 'none' })).toBeUndefined();
    expect(m({ inFlight: 3, reason: 'none' })).toBeUndefined();
    expect(m({ finished: true })).toBeUndefined();
  });
});

describe('the Parquet encoder on the sink line', () => {
  it('shows its busy share and the sink waiting for a slot, when there is an encoder', () => {
    const sinkLine = (s: ProgressSnapshot) => renderProgress(s).at(-1)!;
    expect(sinkLine(snapshot([], { sink: { rows: 10, queueDepth: 1, encoder: { busyPercent: 87, waitPercent: 12 } } }))).toMatch(/sink\s+10 rows\s+queue 1\s+encoder busy 87%, sink waits 12% for a slot$/);
    expect(sinkLine(snapshot([], { sink: { rows: 10, queueDepth: 1, encoder: { busyPercent: 40, waitPercent: 0 } } }))).toMatch(/encoder busy 40%$/);
    expect(sinkLine(snapshot([]))).not.toMatch(/encoder/);
  });

  it('takes the shares over the interval, per thread, between 0 and 100', () => {
    const before = { threadsStarted: 2, groupsOnMainThread: 0, busyMs: 1000, slotWaitMs: 100 };
    expect(encoderShare(before, { threadsStarted: 2, groupsOnMainThread: 0, busyMs: 1300, slotWaitMs: 150 }, 250)).toEqual({ busyPercent: 60, waitPercent: 20 });
    expect(encoderShare(undefined, { threadsStarted: 1, groupsOnMainThread: 0, busyMs: 900, slotWaitMs: 0 }, 250)).toEqual({ busyPercent: 100, waitPercent: 0 });
    expect(encoderShare(before, { threadsStarted: 0, groupsOnMainThread: 0, busyMs: 1000, slotWaitMs: 100 }, 250)).toEqual({ busyPercent: 0, waitPercent: 0 });
  });
});
