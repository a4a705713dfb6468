/**
 * Slab generations (batch/generation.ts): a batch a stage got from a slab is told apart from
 * the slab's later contents. What a stage returns fails the check when it points into a slab
 * that is not its current input's but was an earlier input's (released, or reused since), and
 * passes for the current input; the strict check of held batches sees a slab that moved on.
 */
import { Int32, makeData, RecordBatch, Struct, Field, makeVector, Table } from 'apache-arrow';
import { movedOn, noteGenerations, noteInput, staleMemory } from '../../../src/batch/generation';
import { fromShared, toShared } from '../../../src/batch/shared';
import { generationOf, SlabArena } from '../../../src/batch/slab';

const plain = (n: number) => new Table({ v: makeVector(makeData({ type: new Int32(), length: n, data: Int32Array.from({ length: n }, (_, i) => i) })) }).batches[0] as RecordBatch;

function inSlab(arena: SlabArena) {
  const packed = toShared([plain(1000)], arena);
  return { batches: fromShared(packed.shared), lease: packed.lease, slab: packed.shared.slabs[0] };
}

it('the current input passes; kept after its call (released) fails; reused since fails saying so', () => {
  const arena = new SlabArena();
  const first = inSlab(arena);
  const current = noteInput(first.batches);
  expect(staleMemory(first.batches, current)).toBeUndefined();
  // a slice or a new batch over its columns is the same memory
  const derived = new RecordBatch(first.batches[0].schema, makeData({ type: new Struct([new Field('v', new Int32())]), length: 10, children: [first.batches[0].data.children[0].slice(5, 10)] }));
  expect(staleMemory([derived], current)).toBeUndefined();

  first.lease.release(); // the call returned
  expect(staleMemory(first.batches, new Set())).toMatch(/released when the call that got it returns/);
  expect(staleMemory([derived], new Set())).toMatch(/released when the call that got it returns/);

  const gen = generationOf(first.slab);
  const second = inSlab(arena); // the same slab, handed out again
  expect(second.slab).toBe(first.slab);
  expect(generationOf(first.slab)).toBe(gen + 1);
  expect(staleMemory(first.batches, new Set())).toMatch(/reused for another batch since/);
  // Known limit: when the reused slab is this call's input again, the slab alone cannot tell the two apart.
  expect(staleMemory(first.batches, noteInput(second.batches))).toBeUndefined();
  second.lease.release();
});

it('batches in ordinary memory are never stale', () => {
  expect(staleMemory([plain(10)], new Set())).toBeUndefined();
});

it('strict: a held batch whose slab moved on, or was released, is found', () => {
  const arena = new SlabArena();
  const a = inSlab(arena);
  noteGenerations(a.batches);
  expect(movedOn(a.batches)).toBeUndefined();
  a.lease.release();
  expect(movedOn(a.batches)).toBe('its memory was released');
  const b = inSlab(arena);
  expect(movedOn(a.batches)).toBe('its memory was reused for another batch');
  expect(movedOn(b.batches)).toBeUndefined();
  b.lease.release();
});
