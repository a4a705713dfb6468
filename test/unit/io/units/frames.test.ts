/**
 * A staged unit's frames file (io/units/frames.ts): every Arrow type comes back as it was
 * staged, a sliced view column and a batch's schema metadata included; a frame is in the file
 * once its write has settled (its chunks view the batch's memory, which its owner may reuse
 * from then on); and the frame is written from the batch's own buffers, not from a joined copy
 * (what staging cost a resumable run's main thread: issue 26's bench).
 */
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { Float64, RecordBatch, Table, vectorFromArray } from 'apache-arrow';
import { blobBatch, blobKind, readBlob } from '../../../../src/batch/blob';
import { frameChunks, readFrames } from '../../../../src/io/units/frames';
import { writeChunks } from '../../../../src/io/units/staged-file';
import { UnitRun } from '../../../../src/io/units/units';
import { allTypesBatch, expectBatchesEqual } from '../../../helpers/arrow-types';
import { workspace } from '../../../helpers/workspace';

const ws = workspace('sluice-frames-');
afterAll(() => ws.cleanup());

let n = 0;
async function framesOf(batches: RecordBatch[]): Promise<RecordBatch[]> {
  const file = path.join(ws.dir, `f${n++}.frames`);
  const fd = openSync(file, 'w');
  try {
    for (const b of batches) await writeChunks(fd, frameChunks(b).chunks);
  } finally {
    closeSync(fd);
  }
  return [...readFrames(file)];
}

const floats = (values: number[]) => new Table({ x: vectorFromArray(values, new Float64()) }).batches[0];

describe('frames', () => {
  it('every Arrow type, a sliced batch (Utf8View included), an empty batch and a blob with its metadata come back as staged, in order', async () => {
    const whole = allTypesBatch(11);
    const sliced = allTypesBatch(9).slice(2, 7);
    const empty = allTypesBatch(3).slice(0, 0);
    const blob = blobBatch('parquet-part', Uint8Array.of(1, 2, 3, 250), { rows: 2, whole: false });
    const back = await framesOf([whole, sliced, empty, blob]);
    expect(back.map((b) => b.numRows)).toEqual([11, 5, 0, 1]);
    expectBatchesEqual(back[0], whole);
    // apache-arrow's writer applies a sliced view column's offset twice unless it is rebased first (batch/views.ts).
    expectBatchesEqual(back[1], sliced);
    expect(back[1].getChild('utf8_view')!.toArray()).toEqual(sliced.getChild('utf8_view')!.toArray());
    expectBatchesEqual(back[2], empty);
    expect(blobKind(back[3])).toBe('parquet-part');
    const { bytes, meta } = readBlob<{ rows: number }>(back[3], 'parquet-part');
    expect([...bytes]).toEqual([1, 2, 3, 250]);
    expect(meta.rows).toBe(2);
  });

  it('writes the batch\'s own buffers (views, not one joined copy of the frame)', () => {
    const batch = floats(Array.from({ length: 4096 }, (_, i) => i));
    const data = batch.getChild('x')!.data[0].values;
    const { chunks, byteLength } = frameChunks(batch);
    expect(chunks.some((c) => c.buffer === data.buffer && c.byteLength === data.byteLength)).toBe(true);
    expect(byteLength).toBe(chunks.reduce((s, c) => s + c.byteLength, 0));
  });

  it('a frame is in the file once its write has settled: the batch\'s memory reused from then on changes nothing staged', async () => {
    const dir = path.join(ws.dir, 'run');
    const inputs = [path.join(ws.dir, 'in0.csv'), path.join(ws.dir, 'in1.csv')];
    for (const f of inputs) closeSync(openSync(f, 'w'));
    const run = UnitRun.open({ targets: [path.join(dir, 'a.arrow')], files: inputs, fingerprint: { config: 'c', stages: {} }, mode: 'fresh' });
    const values = Array.from({ length: 1000 }, (_, i) => i);
    for (const [u, file] of inputs.entries()) {
      const batch = floats(values.map((v) => v + 1000 * u));
      await run.write(0, batch, file);
      // The owner hands the memory on (a slab back to its pool) and the next batch overwrites it.
      (batch.getChild('x')!.data[0].values as Float64Array).fill(-1);
    }
    await run.finishUnits();
    const staged = [...run.replay(0)].flatMap((b) => [...(b.getChild('x')!.toArray() as Float64Array)]);
    expect(staged).toEqual([...values, ...values.map((v) => v + 1000)]);
    await run.abort();
  });
});
