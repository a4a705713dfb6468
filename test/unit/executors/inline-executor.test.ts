/**
 * An inline stage's output may pass on columns of its input. When the input lives in a
 * recycled slab (a source thread's, a thread stage's), the output must hold that slab
 * until it is consumed: the input's lease ends as soon as the stage returns.
 */
import path from 'node:path';
import pino from 'pino';
import { OwnedBatch } from '../../../src/batch/owned';
import { tableFromArrays } from 'apache-arrow';
import { InlineExecutor } from '../../../src/executors/inline';
import { SlabArena, refCount } from '../../../src/batch/slab';
import { fromShared, toShared } from '../../../src/batch/shared';

const STAGES = path.resolve(__dirname, '../../fixtures/stages');
const log = pino({ level: 'silent' });
const planned = (module: string, options: Record<string, unknown> = {}) => ({
  name: 'inline',
  modulePath: path.join(STAGES, module),
  mode: 'inline' as const,
  copies: 1,
  options,
  output: { capacity: 4, capacityBytes: 1 << 28 },
});

it('output that passes input columns on holds their slab until released', async () => {
  const executor = new InlineExecutor(planned('e2e-transform.ts'), { log });
  await executor.start();
  const input = tableFromArrays({ id: Int32Array.of(1, 2, 3), name: ['a', 'b', 'c'], x: Float64Array.of(1, 2, 3) }).batches;
  const packed = toShared(input, new SlabArena());
  const [slab] = packed.shared.slabs;
  const input0 = new OwnedBatch({ seq: 0, batches: fromShared(packed.shared), lease: packed.lease });
  const out = await executor.process(input0); // the executor owns the input and releases it
  expect(input0.held).toBe(false);
  expect(refCount(slab)).toBe(1); // held by the output, which still reads `id`, `name` and `x` from it
  expect(out.batches[0].getChild('id')!.toArray()).toEqual(Int32Array.of(1, 2, 3));
  out.release();
  expect(refCount(slab)).toBe(0);
});

it('output built in ordinary memory holds nothing', async () => {
  const executor = new InlineExecutor(planned('probe.ts'), { log });
  await executor.start();
  const packed = toShared(tableFromArrays({ x: Float64Array.of(1) }).batches, new SlabArena());
  const out = await executor.process(new OwnedBatch({ seq: 0, batches: fromShared(packed.shared) }));
  packed.lease.release();
  expect(refCount(packed.shared.slabs[0])).toBe(0);
  out.release(); // nothing to give back
});
