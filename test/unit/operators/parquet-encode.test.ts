/**
 * The stages sluice adds before a sink, driven directly: the Parquet encoding stage's output is
 * its encoded row groups (empty until a group ends), each counting the rows it encodes and cut
 * per partition; the partitioning stage tags every piece with its partition; user stages cannot
 * take their names.
 */
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import pino from 'pino';
import { OwnedBatch } from '../../../src/batch/owned';
import { partitionOf, tagPartition } from '../../../src/batch/partition-tag';
import { schemaIssues } from '../../../src/config/validate';
import { SourceError } from '../../../src/errors';
import { partOf } from '../../../src/io/parquet/encoder/parts';
import { footerOf } from '../../../src/io/parquet/footer';
import { ParquetEncodeExecutor } from '../../../src/operators/parquet-encode';
import { PartitionExecutor } from '../../../src/operators/partition';
import { buildPlan } from '../../../src/plan/build';
import type { PipelineConfig } from '../../../src/config/types';

const log = pino({ level: 'silent' });
const rows = (from: number, n: number, extra: Record<string, string[]> = {}): RecordBatch =>
  tableFromArrays({ id: Int32Array.from({ length: n }, (_, i) => from + i), ...extra }).batches[0];
const config = (sink: PipelineConfig['sink']): PipelineConfig => ({ name: 'p', source: { format: 'csv', path: 'x.csv' }, stages: [{ name: 's', module: 's.ts', mode: 'thread' }], sink });
const planned = (sink: PipelineConfig['sink']) => buildPlan(config(sink), { file: '', baseDir: '/tmp' }).stages;

describe('the Parquet encoding stage', () => {
  it('passes nothing on until a row group is full, then the group encoded, counting its rows', async () => {
    const stage = planned({ format: 'parquet', path: '/tmp/o.parquet', rowGroupSize: 2500 }).at(-1)!;
    const e = new ParquetEncodeExecutor(stage, { log });
    await e.start();
    try {
      const outs: OwnedBatch[] = [];
      for (let b = 0; b < 3; b++) outs.push(await e.process(OwnedBatch.plain(b, [rows(b * 1000, 1000)])));
      expect(outs.map((o) => [o.seq, o.batches.length, o.rows])).toEqual([
        [0, 0, 0],
        [1, 0, 0],
        [2, 1, 2500],
      ]);
      const part = partOf(outs[2].batch);
      expect(footerOf(part.bytes!, 'a part').fields.length).toBeGreaterThan(0); // a whole small Parquet file
      const [last] = await e.flush();
      expect(last.rows).toBe(500);
      // 12 KB of rows: both groups encoded on the main thread, no thread started.
      expect(e.work()).toMatchObject({ threadsStarted: 0, groupsOnMainThread: 2 });
    } finally {
      await e.close();
    }
  });

  it('starts a thread for the groups after the output passes PARQUET_MAIN_THREAD_BYTES; a group begun on the main thread ends there', async () => {
    const stage = planned({ format: 'parquet', path: '/tmp/o.parquet', rowGroupSize: 250_000 }).at(-1)!;
    const e = new ParquetEncodeExecutor(stage, { log });
    await e.start();
    try {
      expect(e.work().threadsStarted).toBe(0); // none before a batch comes
      // 200 000 int32 rows are 0.8 MB as IPC: the first fits under the 1 MiB, the second passes it.
      const outs: OwnedBatch[] = [];
      for (let b = 0; b < 3; b++) outs.push(await e.process(OwnedBatch.plain(b, [rows(b * 200_000, 200_000)])));
      outs.push(...(await e.flush()));
      const parts = outs.flatMap((o) => o.batches.map((batch) => partOf(batch)));
      expect(parts.map((p) => p.rows)).toEqual([250_000, 250_000, 100_000]);
      for (const p of parts) expect(footerOf(p.bytes!, 'a part').fields.length).toBeGreaterThan(0);
      expect(e.work()).toMatchObject({ threadsStarted: 1, groupsOnMainThread: 1 });
    } finally {
      await e.close();
    }
  });

  it('refuses a batch whose schema differs from the first one\'s, naming the file (one Parquet schema per file)', async () => {
    const stage = planned({ format: 'parquet', path: '/tmp/o.parquet' }).at(-1)!;
    const e = new ParquetEncodeExecutor(stage, { log });
    await e.start();
    try {
      await e.process(OwnedBatch.plain(0, [rows(0, 10)]));
      await expect(e.process(OwnedBatch.plain(1, [rows(10, 10, { extra: Array(10).fill('x') })]))).rejects.toThrow(
        /batch schema .*extra.* differs from the first batch's .*; every batch written to \/tmp\/o\.parquet must have the same schema/,
      );
    } finally {
      await e.abort();
    }
  });

  it('cuts each partition\'s row groups apart and tags every part with its partition', async () => {
    const stage = planned({ format: 'parquet', path: '/tmp/o', partitionBy: ['day'], rowGroupSize: 1000 }).at(-1)!;
    expect(stage.encode!.partitioned).toBe(true);
    const e = new ParquetEncodeExecutor(stage, { log });
    await e.start();
    try {
      const a = tagPartition(rows(0, 700), 'day=a');
      const b = tagPartition(rows(700, 700), 'day=b');
      const first = await e.process(OwnedBatch.plain(0, [a, b]));
      expect(first.batches).toEqual([]); // neither partition has a full group yet
      const second = await e.process(OwnedBatch.plain(1, [tagPartition(rows(1400, 700), 'day=a')]));
      expect(second.batches.map((p) => [partitionOf(p), partOf(p).rows])).toEqual([['day=a', 1000]]);
      const [rest] = await e.flush();
      expect(rest.batches.map((p) => [partitionOf(p), partOf(p).rows])).toEqual([
        ['day=a', 400],
        ['day=b', 700],
      ]);
    } finally {
      await e.close();
    }
  });
});

describe('the partitioning stage', () => {
  it('routes every row to its partition, without the partition column, and tags each piece', async () => {
    const stages = planned({ format: 'csv', path: '/tmp/o', partitionBy: ['day'] });
    expect(stages.map((s) => s.name)).toEqual(['s', 'partition-by']);
    const e = new PartitionExecutor(stages[1], { log });
    const out = await e.process(OwnedBatch.plain(4, [rows(0, 6, { day: ['x', 'y', 'x', 'x', 'y', 'z'] })]));
    expect(out.seq).toBe(4);
    const byPartition = Object.fromEntries(out.batches.map((b) => [partitionOf(b), Array.from(b.getChild('id')!.toArray() as Int32Array)]));
    expect(byPartition).toEqual({ 'day=x': [0, 2, 3], 'day=y': [1, 4], 'day=z': [5] });
    expect(out.batches.every((b) => b.schema.fields.map((f) => f.name).join() === 'id')).toBe(true);
  });

  it('names the partition column the rows lack', async () => {
    const e = new PartitionExecutor(planned({ format: 'csv', path: '/tmp/o', partitionBy: ['nope'] })[1], { log });
    await expect(e.process(OwnedBatch.plain(0, [rows(0, 3)]))).rejects.toThrow(/partition column "nope" is not in the output \(columns: id\)/);
  });
});

it('keeps the names of the stages sluice adds for itself', () => {
  for (const name of ['parquet-encode', 'partition-by']) {
    const { issues } = schemaIssues({ ...config({ format: 'csv', path: 'o.csv' }), stages: [{ name, module: 's.ts', mode: 'inline' }] });
    expect(issues).toEqual([{ path: 'stages[0].name', message: expect.stringMatching(new RegExp(`"${name}" is the name of the stage sluice adds before`)) }]);
  }
});

describe('the Parquet encoding stage in CSV mode (a plain conversion)', () => {
  it('raises a chunk\'s failure only once every chunk before it settled, not only the one just before', async () => {
    const stage = { ...planned({ format: 'parquet', path: '/tmp/o.parquet' }).at(-1)!, encode: { input: 'csv' as const, rowGroupSize: 100, compression: 'zstd', target: '/tmp/o.parquet', partitioned: false } };
    const e = new ParquetEncodeExecutor(stage, { log });
    const pending: { resolve: (v: OwnedBatch) => void; reject: (e: unknown) => void }[] = [];
    // The threads' work, settled by this test in the order it wants.
    (e as unknown as { encodeChunk: () => Promise<OwnedBatch> }).encodeChunk = () => new Promise((resolve, reject) => pending.push({ resolve, reject }));
    const items = [0, 1, 2].map((seq) => e.process(OwnedBatch.plain(seq, [])));
    const order: string[] = [];
    items.forEach((p, i) => p.then(() => order.push(`ok ${i}`), () => order.push(`failed ${i}`)));
    pending[1].resolve(OwnedBatch.plain(1, []));
    pending[2].reject(new SourceError('bad value', { file: '/in.csv', line: 300 }));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['ok 1']);
    pending[0].reject(new SourceError('bad value', { file: '/in.csv', line: 2 }));
    await Promise.allSettled(items);
    expect(order).toEqual(['ok 1', 'failed 0', 'failed 2']);
  });
});
