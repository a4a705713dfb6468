/**
 * Adjacent inline stages fused into one chain on the main thread (plan/fuse.ts): a DataFrame a
 * member returns reaches the next member as it is (batch/frame-handoff.ts). The structure: between
 * two adjacent polars members, no Arrow ⇄ polars conversion at all (counted by the conversion
 * counter of batch/polars.ts); the values: the same output as the two stages unfused (each its own
 * executor, the batch converted to Arrow between them), for a frame returned alone or in an array,
 * a JavaScript member that reads the batch in between, and a Categorical (which the round trip
 * turns into a String, so it is not handed on).
 */
import path from 'node:path';
import pino from 'pino';
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { OwnedBatch } from '../../../src/batch/owned';
import { conversions } from '../../../src/batch/polars';
import { handoffs } from '../../../src/batch/frame-handoff';
import { InlineExecutor } from '../../../src/executors/inline';
import { fuseAdjacent } from '../../../src/plan/fuse';
import type { PlannedNode } from '../../../src/plan/types';
import { SlabArena, refCount } from '../../../src/batch/slab';
import { fromShared, toShared } from '../../../src/batch/shared';

const STAGES = path.resolve(__dirname, '../../fixtures/stages');
const log = pino({ level: 'silent' });

const node = (name: string, module: string, options: Record<string, unknown> = {}, input = -1): PlannedNode => ({
  name,
  modulePath: path.join(STAGES, module),
  mode: 'inline',
  copies: 1,
  slotsPerCopy: 1,
  options,
  output: { capacity: 4, capacityBytes: 1 << 28 },
  input,
});

const step = (name: string, options: Record<string, unknown>, input: number) => node(name, 'polars-step.ts', options, input);

function input(seq: number): OwnedBatch {
  const n = 1000;
  const batch = tableFromArrays({
    x: Float64Array.from({ length: n }, (_, i) => i + seq * n + 0.5),
    name: Array.from({ length: n }, (_, i) => `n${(i * 7) % 13}`),
  }).batches[0];
  return OwnedBatch.plain(seq, [batch]);
}

function rows(batches: RecordBatch[]): unknown[] {
  return batches.flatMap((b) => b.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON()))));
}

function types(batches: RecordBatch[]): string[] {
  return batches[0].schema.fields.map((f) => `${f.name}:${String(f.type)}`);
}

/** The members fused (one executor) and unfused (an executor each, in turn): both outputs, and the fused run's conversions. */
async function both(members: PlannedNode[]) {
  const { stages } = fuseAdjacent(members);
  expect(stages).toHaveLength(1);
  const fused = new InlineExecutor(stages[0], { log });
  await fused.start();
  const alone = members.map((m) => new InlineExecutor(m, { log }));
  for (const a of alone) await a.start();
  const out = { fused: [] as RecordBatch[], unfused: [] as RecordBatch[], conversions: 0, frames: 0, materialised: 0 };
  for (let seq = 0; seq < 3; seq++) {
    const before = { c: conversions.count, f: handoffs.frames, m: handoffs.materialised };
    const f = await fused.process(input(seq));
    out.conversions += conversions.count - before.c;
    out.frames += handoffs.frames - before.f;
    out.materialised += handoffs.materialised - before.m;
    out.fused.push(...f.batches);
    let u = input(seq);
    for (const a of alone) u = await a.process(u);
    out.unfused.push(...u.batches);
  }
  return out;
}

it('fuses adjacent inline stages with the same copies, as thread stages are', () => {
  const { stages } = fuseAdjacent([step('a', { from: 'x', to: 'y' }, -1), step('b', { from: 'y', to: 'z' }, 0)]);
  expect(stages.map((s) => [s.name, s.mode, s.fused?.map((m) => m.name)])).toEqual([['a+b', 'inline', ['a', 'b']]]);
  // different copies, or an inline next to a thread stage: two stages
  expect(fuseAdjacent([step('a', { from: 'x', to: 'y' }, -1), { ...step('b', { from: 'y', to: 'z' }, 0), copies: 2 }]).stages).toHaveLength(2);
  expect(fuseAdjacent([step('a', { from: 'x', to: 'y' }, -1), { ...step('b', { from: 'y', to: 'z' }, 0), mode: 'thread' }]).stages).toHaveLength(2);
});

it('two adjacent polars stages: no conversion between them, the same output as unfused', async () => {
  const r = await both([step('a', { from: 'x', to: 'y' }, -1), step('b', { from: 'y', to: 'z', times: 3 }, 0)]);
  // per batch: the input into a's frame, b's frame into Arrow; none between a and b
  expect(r.conversions).toBe(2 * 3);
  expect(r.frames).toBe(3);
  expect(r.materialised).toBe(0);
  expect(rows(r.fused)).toEqual(rows(r.unfused));
  expect(types(r.fused)).toEqual(types(r.unfused));
  expect(rows(r.fused)[5]).toEqual({ x: 5.5, name: 'n9', y: 11, z: 33 });
});

it('three polars stages, a frame returned in an array: handed on twice, the same output', async () => {
  const r = await both([step('a', { from: 'x', to: 'y', returns: 'array' }, -1), step('b', { from: 'y', to: 'z' }, 0), step('c', { from: 'z', to: 'w' }, 1)]);
  expect(r.conversions).toBe(2 * 3);
  expect(r.frames).toBe(2 * 3);
  expect(rows(r.fused)).toEqual(rows(r.unfused));
});

it('a JavaScript stage after a polars one reads the batch: the frame becomes it, the same output', async () => {
  const r = await both([step('a', { from: 'x', to: 'y' }, -1), node('js', 'e2e-transform.ts', {}, 0), step('c', { from: 'x2', to: 'w' }, 1)]);
  expect(r.materialised).toBe(3);
  expect(rows(r.fused)).toEqual(rows(r.unfused));
  expect(types(r.fused)).toEqual(types(r.unfused));
});

it('a Categorical column is not handed on (the round trip makes it a String): the same output and types as unfused', async () => {
  const r = await both([step('a', { from: 'x', to: 'y', categorical: 'name' }, -1), step('b', { from: 'y', to: 'z' }, 0)]);
  expect(r.frames).toBe(0);
  expect(r.conversions).toBe(4 * 3);
  expect(types(r.fused)).toEqual(types(r.unfused));
  expect(types(r.fused).find((t) => t.startsWith('name:'))).not.toMatch(/Dictionary/);
  expect(rows(r.fused)).toEqual(rows(r.unfused));
});

it('a frame the next member reads as a batch lies in a slab held by the output until it is released', async () => {
  const { stages } = fuseAdjacent([step('a', { from: 'x', to: 'y' }, -1), node('pass', 'identity.ts', {}, 0)]);
  const fused = new InlineExecutor(stages[0], { log });
  await fused.start();
  const packed = toShared(input(0).batches, new SlabArena());
  const out = await fused.process(new OwnedBatch({ seq: 0, batches: fromShared(packed.shared), lease: packed.lease }));
  expect(refCount(packed.shared.slabs[0])).toBe(0); // the input's slab: a's frame copied what it needed
  const slabs = new Set(out.batches.flatMap((b) => b.data.children.map((c) => (c.values as Uint8Array).buffer)));
  const held = [...slabs].filter((s) => s instanceof SharedArrayBuffer) as SharedArrayBuffer[];
  expect(held.length).toBeGreaterThan(0);
  expect(held.every((s) => refCount(s) >= 1)).toBe(true);
  expect(out.batches[0].getChild('y')!.get(1)).toBe(3);
  out.release();
  expect(held.every((s) => refCount(s) === 0)).toBe(true);
});

it('a member that returns the frame it was handed as it is, reading it on some calls only, is not taken for one that kept a batch', async () => {
  // Its slab (the stage before's, recycled from batch to batch once the output is released) is
  // this call's input, read or not: not memory kept from an earlier call.
  const { stages } = fuseAdjacent([step('a', { from: 'x', to: 'y' }, -1), node('pass', 'reads-every-other.ts', {}, 0)]);
  const fused = new InlineExecutor(stages[0], { log });
  await fused.start();
  for (let seq = 0; seq < 4; seq++) {
    const out = await fused.process(input(seq));
    expect(out.batches[0].getChild('y')!.get(0)).toBe((seq * 1000 + 0.5) * 2);
    out.release();
  }
});
