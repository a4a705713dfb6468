/**
 * KeyedExecutor (executors/keyed.ts) over a stand-in for a mode's executor: each part goes to
 * the copy of its keys, outputs come in copy order numbered as the item, a batch without rows
 * goes to copy 0, slots are per copy (a copy held up by a hot key holds back only its own
 * parts), a failed part fails the item and releases the others, leases are released exactly
 * once (strict mode), and abort() fails the parts still waiting.
 */
import { Float64, Table, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import pino from 'pino';
import { hashKeyRows } from '../../../src/batch/key-hash';
import { OwnedBatch, type Lease } from '../../../src/batch/owned';
import { AbortedError, StageError, type SluiceError } from '../../../src/errors';
import { KeyedExecutor } from '../../../src/executors/keyed';
import type { StageExecutor } from '../../../src/executors/types';
import type { PlannedStage } from '../../../src/plan/types';

const log = pino({ level: 'silent' });
const planned = (copies: number, slotsPerCopy = 1): PlannedStage => ({
  name: 'agg',
  modulePath: '/x.ts',
  mode: 'thread',
  copies,
  slotsPerCopy,
  options: {},
  output: { capacity: 4, capacityBytes: 1 << 20 },
  key: ['k'],
});

const batchOf = (keys: (string | null)[]): RecordBatch =>
  new Table({ k: vectorFromArray(keys, new Utf8()), v: vectorFromArray(keys.map((_, i) => i), new Float64()) }).batches[0];
const keysOf = (b: RecordBatch) => Array.from({ length: b.numRows }, (_, i) => b.getChild('k')!.get(i) as string | null);

/** A lease that counts its releases. */
const counted = () => {
  const lease = { releases: 0, release: () => void lease.releases++ } satisfies Lease & { releases: number };
  return lease;
};

interface Call {
  copy: number;
  keys: (string | null)[];
  /** `lease`: the output holds memory of its own (released with it). */
  finish: (fail?: Error, lease?: Lease) => void;
}

/** A mode's executor as the keyed one sees it: processOn answers when the test says (or at once). */
class FakeInner implements StageExecutor {
  readonly stage = 'agg';
  readonly mode = 'thread' as const;
  readonly slots: number;
  calls: Call[] = [];
  aborted = false;
  constructor(
    readonly copies: number,
    private readonly auto = true,
  ) {
    this.slots = copies;
  }
  async start() {}
  process(): Promise<OwnedBatch> {
    throw new Error('a keyed stage is given its parts by processOn');
  }
  processOn(copy: number, input: OwnedBatch): Promise<OwnedBatch> {
    return new Promise((resolve, reject) => {
      const finish = (fail?: Error, lease?: Lease) => {
        if (fail || lease) input.release();
        if (fail) reject(fail);
        else if (lease) resolve(new OwnedBatch({ seq: input.seq, batches: input.batches, lease }));
        else resolve(input.moveTo({})); // pass-through: the output lies in the input's memory
      };
      this.calls.push({ copy, keys: input.batches.flatMap(keysOf), finish });
      if (this.auto) finish();
    });
  }
  async flush() {
    return [];
  }
  async close() {}
  async abort() {
    this.aborted = true;
  }
  onFatal(_l: (err: SluiceError) => void) {}
  stats() {
    return { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  }
}

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', null, 'ü'];

it('sends every row of a key to one copy, item after item; the output is the parts in copy order, numbered as the item', async () => {
  const inner = new FakeInner(3);
  const keyed = new KeyedExecutor(planned(3), inner, { log });
  const copyOf = new Map<string | null, Set<number>>();
  for (let seq = 0; seq < 6; seq++) {
    const keys = Array.from({ length: 40 }, (_, i) => KEYS[(i * (seq + 3)) % KEYS.length]);
    inner.calls = [];
    const out = await keyed.process(OwnedBatch.plain(seq, [batchOf(keys)], 'in.csv'));
    expect(out.seq).toBe(seq);
    expect(out.sourceFile).toBe('in.csv');
    expect(inner.calls.map((c) => c.copy)).toEqual([...inner.calls.map((c) => c.copy)].sort());
    expect(out.batches.flatMap(keysOf)).toEqual(inner.calls.flatMap((c) => c.keys));
    expect(out.rows).toBe(keys.length);
    for (const c of inner.calls) for (const k of c.keys) (copyOf.get(k) ?? copyOf.set(k, new Set()).get(k)!).add(c.copy);
    out.release();
  }
  for (const [key, copies] of copyOf) expect({ key, copies: copies.size }).toEqual({ key, copies: 1 });
  expect(new Set([...copyOf.values()].map((s) => [...s][0])).size).toBe(3); // the keys spread over the copies
});

it('a batch without rows goes through copy 0 once (it carries the schema on)', async () => {
  const inner = new FakeInner(4);
  const out = await new KeyedExecutor(planned(4), inner, { log }).process(OwnedBatch.plain(7, [batchOf([])]));
  expect(inner.calls.map((c) => c.copy)).toEqual([0]);
  expect(out.batches[0].numRows).toBe(0);
  out.release();
});

it('releases an item it cut at once, and an item passed whole (all rows on one copy) only when the output is released', async () => {
  const inner = new FakeInner(2);
  const keyed = new KeyedExecutor(planned(2), inner, { log });
  const cut = counted();
  const out1 = await keyed.process(new OwnedBatch({ seq: 0, batches: [batchOf(KEYS)], lease: cut }));
  expect(inner.calls).toHaveLength(2);
  expect(cut.releases).toBe(1);
  out1.release();
  expect(cut.releases).toBe(1);

  const whole = counted();
  const out2 = await keyed.process(new OwnedBatch({ seq: 1, batches: [batchOf(['a', 'a', 'a'])], lease: whole }));
  expect(whole.releases).toBe(0); // the output is the input's memory
  out2.release();
  expect(whole.releases).toBe(1);
});

it('an item of several batches, some passed whole on different copies: the item is released once, by the last of them', async () => {
  const inner = new FakeInner(2);
  const keyed = new KeyedExecutor(planned(2), inner, { log });
  // find two keys on different copies
  await keyed.process(OwnedBatch.plain(0, [batchOf(KEYS)])).then((o) => o.release());
  const [x, y] = [inner.calls[0].keys[0], inner.calls[1].keys[0]];
  const lease = counted();
  const out = await keyed.process(new OwnedBatch({ seq: 1, batches: [batchOf([x, x]), batchOf([y])], lease }));
  expect(out.batches.flatMap(keysOf)).toEqual([x, x, y]);
  expect(lease.releases).toBe(0);
  out.release();
  expect(lease.releases).toBe(1);
});

it('slots per copy: while one copy is held up (a hot key) the parts for the other copies run; the held copy gets one part at a time', async () => {
  const inner = new FakeInner(2, false);
  const keyed = new KeyedExecutor(planned(2, 1), inner, { log });
  const items = [0, 1, 2].map((seq) => keyed.process(OwnedBatch.plain(seq, [batchOf(KEYS)])));
  await new Promise((r) => setImmediate(r));
  // Both copies started item 0's part; nothing more (one slot each).
  expect(inner.calls.map((c) => c.copy).sort()).toEqual([0, 1]);
  const hot = inner.calls.find((c) => c.copy === 0)!;
  // copy 1 finishes its parts; copy 0 does not: copy 1 goes on with items 1 and 2.
  for (let i = 0; i < 3; i++) {
    inner.calls.filter((c) => c.copy === 1).at(-1)!.finish();
    await new Promise((r) => setImmediate(r));
  }
  expect(inner.calls.filter((c) => c.copy === 1)).toHaveLength(3);
  expect(inner.calls.filter((c) => c.copy === 0)).toHaveLength(1);
  hot.finish();
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 2; i++) {
    inner.calls.filter((c) => c.copy === 0).at(-1)!.finish();
    await new Promise((r) => setImmediate(r));
  }
  const outs = await Promise.all(items);
  expect(outs.map((o) => o.seq)).toEqual([0, 1, 2]);
  for (const o of outs) o.release();
});

it('a part that fails fails the item with its error; the other parts’ outputs are released', async () => {
  const inner = new FakeInner(2, false);
  const keyed = new KeyedExecutor(planned(2), inner, { log });
  const result = keyed.process(OwnedBatch.plain(3, [batchOf(KEYS)]));
  await new Promise((r) => setImmediate(r));
  const held = counted();
  // copy 0's output holds memory of its own; copy 1 fails
  const ok = inner.calls.find((c) => c.copy === 0)!;
  const fail = inner.calls.find((c) => c.copy === 1)!;
  fail.finish(new Error('deliberate'));
  ok.finish(undefined, held);
  await expect(result).rejects.toThrow('deliberate');
  expect(held.releases).toBe(1);
});

it('a key column the batch does not have fails the item as a StageError naming stage, batch, file and column', async () => {
  const keyed = new KeyedExecutor({ ...planned(2), key: ['nope'] }, new FakeInner(2), { log });
  const err = await keyed.process(OwnedBatch.plain(5, [batchOf(['a'])], 'in.csv')).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StageError);
  expect((err as Error).message).toBe('stage "agg", batch #5, from in.csv failed in process(): routing rows by key (nope): key column "nope" is not in the batch (its columns: k, v)');
});

it('abort(): parts still waiting for their copy fail as stopped, and are released', async () => {
  const inner = new FakeInner(2, false);
  const keyed = new KeyedExecutor(planned(2, 1), inner, { log });
  const first = keyed.process(OwnedBatch.plain(0, [batchOf(KEYS)]));
  const lease = counted();
  const second = keyed.process(new OwnedBatch({ seq: 1, batches: [batchOf(['a', 'a'])], lease })); // waits: its copy is busy
  await new Promise((r) => setImmediate(r));
  expect(inner.calls).toHaveLength(2);
  await keyed.abort();
  await expect(second).rejects.toBeInstanceOf(AbortedError);
  expect(lease.releases).toBe(1);
  expect(inner.aborted).toBe(true);
  for (const c of inner.calls) c.finish(new AbortedError('stopped'));
  await expect(first).rejects.toBeInstanceOf(AbortedError);
});

/** An item its producer already cut (OwnedBatch.split, plan/key-split.ts): routed as it says, nothing hashed or copied here. */
describe('an item cut by its producer', () => {
  // Rows all of key 'a': a cut here would send every one to copy `home`.
  const home = hashKeyRows(batchOf(['a']), ['k'])[0] % 2;
  const ofA = (n: number): RecordBatch => batchOf(new Array<string>(n).fill('a'));
  const split = (copyOf: number[], copies = 2) => ({ stage: 'agg', key: ['k'], copies, copyOf, copiedBytes: 123, threadId: 7 });

  it('goes to the copies it names, in copy order, sharing the item’s one lease; counted as cut by the producer', async () => {
    const inner = new FakeInner(2);
    const keyed = new KeyedExecutor(planned(2), inner, { log });
    const lease = counted();
    // The producer's word, not a hash made here: batch a goes to the other copy than a cut here would choose.
    const [a, b, c] = [ofA(2), ofA(3), ofA(1)];
    const out = await keyed.process(new OwnedBatch({ seq: 4, batches: [a, b, c], lease, split: split([1 - home, home, home]) }));
    expect(inner.calls.map((x) => [x.copy, x.keys.length])).toEqual(home === 0 ? [[0, 4], [1, 2]] : [[0, 2], [1, 4]]);
    expect(out.batches).toEqual(home === 0 ? [b, c, a] : [a, b, c]);
    expect(lease.releases).toBe(0);
    out.release();
    expect(lease.releases).toBe(1);
    expect(keyed.keyed()).toMatchObject({ cutByProducer: 1, cutOnMain: 0, bytesCopiedByProducer: 123, bytesCopiedOnMain: 0, producers: [7], splitMs: 0 });
    expect(keyed.keyed().rowsPerCopy).toEqual(home === 0 ? [4, 2] : [2, 4]);
  });

  it('cut for another key or another number of copies: cut again here', async () => {
    const inner = new FakeInner(2);
    const keyed = new KeyedExecutor(planned(2), inner, { log });
    for (const wrong of [split([0], 3), { ...split([0]), key: ['other'] }]) {
      const out = await keyed.process(new OwnedBatch({ seq: 0, batches: [batchOf(KEYS)], split: wrong }));
      out.release();
    }
    expect(keyed.keyed()).toMatchObject({ cutByProducer: 0, cutOnMain: 2 });
    expect(keyed.keyed().bytesCopiedOnMain).toBeGreaterThan(0);
  });
});
