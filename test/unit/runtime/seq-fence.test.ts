/**
 * A channel takes one result per sequence number, ordered or not: a second one (a task
 * answered twice, a retry whose first attempt also came back) is refused naming the channel and
 * the number, and released, and a run whose stage gives one fails with that error instead of
 * writing the rows twice.
 */
import { tableFromArrays } from 'apache-arrow';
import { OwnedBatch } from '../../../src/batch/owned';
import type { SluiceError } from '../../../src/errors';
import type { StageExecutor } from '../../../src/executors/types';
import { Channel } from '../../../src/runtime/channel';
import { Scheduler, type SchedulerSource } from '../../../src/runtime/scheduler';
import { SeqFence } from '../../../src/runtime/seq-fence';

const batch = () => tableFromArrays({ x: Int32Array.of(1, 2) }).batches[0];
/** An item that records whether it was released. */
const item = (seq: number) => {
  let released = false;
  const owned = new OwnedBatch({ seq, batches: [batch()], lease: { release: () => void (released = true) } });
  return { owned, released: () => released };
};

describe.each([
  ['ordered', true],
  ['unordered', false],
])('an %s channel', (_name, ordered) => {
  const DUPLICATE = /^channel a→b: a second result for batch #(\d+) \(a bug in sluice/;

  it.each([
    ['while the first is still held', [0, 0], false],
    ['after the first was taken', [0, 0], true],
    ['of a batch that came out of order, while it waits', [1, 1], false],
    ['of an earlier batch, after later ones passed', [0, 1, 2, 1], true],
  ])('refuses a second result for the same batch %s, naming channel and batch, and releases it', (_when, seqs, takeBetween) => {
    const ch = new Channel('a→b', { capacity: 8, capacityBytes: 1 << 30 }, ordered);
    const last = seqs[seqs.length - 1];
    for (const seq of seqs.slice(0, -1)) {
      ch.fulfil(ch.reserve(0), item(seq).owned);
      if (takeBetween) while (ch.hasReady()) ch.take();
    }
    const second = item(last);
    const r = ch.reserve(0);
    expect(() => ch.fulfil(r, second.owned)).toThrow(DUPLICATE);
    expect(() => ch.fulfil(r, item(last).owned)).toThrow(`a second result for batch #${last} `);
    expect(second.released()).toBe(true);
  });

  it('takes every number once, in any order', () => {
    const ch = new Channel('a→b', { capacity: 8, capacityBytes: 1 << 30 }, ordered);
    const order = [3, 0, 2, 1, 5, 4];
    for (const seq of order) ch.fulfil(ch.reserve(0), item(seq).owned);
    const out: number[] = [];
    while (ch.hasReady()) out.push(ch.take().seq);
    expect(out).toEqual(ordered ? [0, 1, 2, 3, 4, 5] : order);
  });

  it('a run whose stage gives two results numbered alike fails with that error (not an unhandled rejection)', async () => {
    let read = 0;
    const source: SchedulerSource = {
      async next() {
        return read < 3 ? { done: false, value: OwnedBatch.plain(-1, [batch()]) } : { done: true, value: undefined };
      },
      async close() {},
    };
    source.next = ((next) => () => (read++, next()))(source.next);
    // Every result is numbered 0: a stage that answers batch 0 again for batch 1.
    const stage: StageExecutor = {
      stage: 'twice',
      mode: 'inline',
      copies: 1,
      slots: 1,
      start: async () => undefined,
      process: (input) => input.consume(async () => OwnedBatch.plain(0, [batch()])),
      flush: async () => [],
      close: async () => undefined,
      abort: async () => undefined,
      onFatal: (_l: (err: SluiceError) => void) => undefined,
      stats: () => ({ bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 }),
    };
    const channels = ['source→twice', 'twice→sink'].map((name) => new Channel(name, { capacity: 2, capacityBytes: 1 << 30 }, ordered));
    const written: number[] = [];
    const sink = { write: (out: OwnedBatch) => out.consume(async () => void written.push(out.seq)) };
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(new Scheduler(source, [stage], sink, channels).run()).rejects.toThrow(/^channel twice→sink: a second result for batch #0 \(a bug in sluice/);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(written.filter((s) => s === 0).length).toBeLessThanOrEqual(1);
  }, 15_000); // without the fence the run waits forever for the lost result
});

it('SeqFence keeps only the numbers seen above the lowest one missing', () => {
  const f = new SeqFence();
  for (const seq of [2, 1, 0, 3]) expect(f.seen(seq)).toBe(false);
  for (const seq of [0, 1, 2, 3]) expect(f.seen(seq)).toBe(true);
  expect((f as unknown as { above: Set<number> }).above.size).toBe(0);
  expect(f.seen(7)).toBe(false);
  expect(f.seen(7)).toBe(true);
});
