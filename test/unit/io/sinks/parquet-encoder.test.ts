/**
 * Parquet written while the stream runs: row groups encoded on encoder threads and
 * assembled in order into one file with a merged footer (offsets shifted), read back exactly
 * by polars and by DuckDB (an independent reader); a second thread only when groups overlap;
 * reused batch slots; bounded waiting rows; a dead encoder fails calls instead of hanging.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import pl from 'nodejs-polars';
import { REPO, runNode } from '../../../helpers/cli';
import { engineRoot, registerForChild } from '../../../helpers/register-for-child';
import { SinkError } from '../../../../src/errors';
import { openSink } from '../../../../src/io/sinks';
import { openSource } from '../../../../src/io/sources';
import { dataFrameToSlab } from '../../../../src/batch/polars';
import { buffersOf } from '../../../../src/batch/shared';
import { SlabArena, refCount } from '../../../../src/batch/slab';
import { PARQUET_ENCODER_SLOTS as ENCODER_SLOTS } from '../../../../src/defaults';
import { EncoderPool } from '../../../../src/io/parquet/encoder/pool';
import { ParquetWriter } from '../../../../src/io/sinks/writers/parquet';
import { ParquetAssembler, footerOf, readRowGroups } from '../../../../src/io/parquet/footer';
import { decodeStruct, encodeStruct } from '../../../../src/io/parquet/thrift';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-parquet-'));
let k = 0;
const target = () => path.join(dir, `o${k++}.parquet`);

/** `rows` rows starting at id `from`: an int, a string and a nullable float column. */
const rowsFrom = (from: number, rows: number): RecordBatch =>
  tableFromArrays({
    id: Int32Array.from({ length: rows }, (_, i) => from + i),
    name: Array.from({ length: rows }, (_, i) => `name-${from + i}`),
    score: Array.from({ length: rows }, (_, i) => ((from + i) % 7 === 0 ? null : (from + i) / 4)) as number[],
  }).batches[0];

const groupSizes = async (file: string) => (await readRowGroups(file)).map((g) => g.rows);
const ids = (file: string) => pl.readParquet(file).getColumn('id').toArray() as number[];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function duckdb(sql: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRows();
  } finally {
    c.closeSync();
  }
}

describe('thrift compact codec', () => {
  it('decodes and re-encodes a polars footer byte for byte', () => {
    const file = pl.DataFrame({ a: [1, 2, 3], b: ['x', null, 'z'] }).writeParquet({ compression: 'zstd' });
    const length = file.readUInt32LE(file.length - 8);
    const footer = file.subarray(file.length - 8 - length, file.length - 8);
    const { struct, length: read } = decodeStruct(footer);
    expect(read).toBe(footer.length);
    expect(encodeStruct(struct).equals(footer)).toBe(true);
  });
});

describe('ParquetAssembler', () => {
  it('joins whole Parquet files into one that polars and DuckDB read exactly', async () => {
    const parts = [pl.DataFrame({ id: range(5), s: range(5).map(String) }), pl.DataFrame({ id: [5, 6], s: ['5', null] }), pl.DataFrame({ id: range(100).map((i) => i + 7), s: range(100).map((i) => `v${i}`) })];
    const asm = new ParquetAssembler();
    const chunks: Uint8Array[] = [asm.header()];
    for (const p of parts) chunks.push(asm.add(p.writeParquet({ compression: 'zstd' })));
    chunks.push(asm.footer());
    const file = target();
    writeFileSync(file, Buffer.concat(chunks));
    expect(asm.written).toBe(readFileSync(file).length);

    expect(await groupSizes(file)).toEqual([5, 2, 100]);
    const back = pl.readParquet(file);
    expect(back.frameEqual(pl.concat(parts))).toBe(true);
    const [[count, sum, nulls]] = await duckdb(`SELECT count(*), sum(id), count(*) - count(s) FROM read_parquet('${file}')`);
    expect([Number(count), Number(sum), Number(nulls)]).toEqual([107, range(107).reduce((a, b) => a + b, 0), 1]);
    // Row-group statistics still point at the right pages: a filter on the last group.
    const [[last]] = await duckdb(`SELECT string_agg(s, ',' ORDER BY id) FROM read_parquet('${file}') WHERE id >= 105`);
    expect(last).toBe('v98,v99');
  });

  it('refuses a part with another schema', () => {
    const asm = new ParquetAssembler();
    asm.header();
    asm.add(pl.DataFrame({ a: [1] }).writeParquet());
    expect(() => asm.add(pl.DataFrame({ a: ['x'] }).writeParquet())).toThrow(/another Parquet schema/);
  });

  it('keeps no view of the parts it was given (each would hold a whole encoded row group alive)', () => {
    // Big enough to have an ArrayBuffer of its own (small Buffers share Node's 8 KiB pool).
    const part = pl.DataFrame({ id: range(5000), s: range(5000).map((i) => `v${i}`) }).writeParquet({ compression: 'zstd' });
    expect(part.buffer.byteLength).toBe(part.byteLength);
    const meta = footerOf(part, 'a part');
    const views: Uint8Array[] = [];
    const walk = (v: unknown): void => {
      if (v instanceof Uint8Array) views.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(meta);
    expect(views.length).toBeGreaterThan(0); // column names and min/max statistics
    expect(views.filter((v) => v.buffer === part.buffer)).toEqual([]);
  });

  it('says when bytes are not a Parquet file', () => {
    expect(() => footerOf(Buffer.from('not parquet at all'), 'the part')).toThrow(/the part is not a Parquet file/);
  });
});

describe('ParquetWriter', () => {
  it('cuts exact row groups of rowGroupSize across batches, the last one shorter', async () => {
    const file = target();
    const sink = await openSink({ format: 'parquet', path: file, rowGroupSize: 1000 });
    for (let b = 0; b < 11; b++) await sink.write(rowsFrom(b * 300, 300), { seq: b });
    const result = await sink.commit();
    expect(result.rows).toBe(3300);
    expect(await groupSizes(file)).toEqual([1000, 1000, 1000, 300]);
    expect(ids(file)).toEqual(range(3300));
    const back = pl.readParquet(file);
    expect(back.getColumn('name').toArray()[2999]).toBe('name-2999');
    expect(back.getColumn('score').nullCount()).toBe(range(3300).filter((i) => i % 7 === 0).length);
  });

  it('honours row groups up to the most polars writes as one (524 287 rows)', async () => {
    const file = target();
    const sink = await openSink({ format: 'parquet', path: file, rowGroupSize: 524_287 });
    const big = tableFromArrays({ id: Int32Array.from({ length: 700_000 }, (_, i) => i) }).batches[0];
    await sink.write(big, { seq: 0 });
    await sink.commit();
    expect(await groupSizes(file)).toEqual([524_287, 700_000 - 524_287]);
    // Every id in order, checked as numbers (toEqual's diffing walk of 700 000 elements costs seconds): the first one out of place, if any.
    const got = ids(file);
    expect(got.length).toBe(700_000);
    expect(got.findIndex((id, i) => id !== i)).toBe(-1);
  });

  it('writes the schema of an output without rows', async () => {
    const file = target();
    const sink = await openSink({ format: 'parquet', path: file });
    await sink.write(rowsFrom(0, 0), { seq: 0 });
    await sink.commit();
    const back = pl.readParquet(file);
    expect(back.height).toBe(0);
    expect(back.columns).toEqual(['id', 'name', 'score']);
  });
});

/** A Parquet file encoded on `pool` (the writer a sink uses; the encoding stage drives the same pool and cutter). */
const writerOn = (pool: EncoderPool, file: string, rowGroupSize: number) => new ParquetWriter(file, { compression: 'zstd', rowGroupSize }, pool);
const closed = async (w: ParquetWriter) => {
  await w.close();
  return { rows: w.rows, rowGroups: w.rowGroups };
};

describe('the encoder pool', () => {
  it('reuses its batch slots: equal batches allocate no new memory after the first few', async () => {
    const pool = new EncoderPool();
    const file = target();
    try {
      const w = writerOn(pool, file, 10_000);
      for (let b = 0; b < 50; b++) await w.write(rowsFrom(b * 1000, 1000));
      expect(await closed(w)).toEqual({ rows: 50_000, rowGroups: 5 });
      expect(pool.stats.batches).toBe(50);
      expect(pool.stats.slotAllocations).toBeLessThanOrEqual(ENCODER_SLOTS);
    } finally {
      await pool.destroy();
    }
    expect(ids(file)).toEqual(range(50_000));
  });

  it('reads batches polars wrote into slabs where they are, cut pieces through a copy, into one exact file', async () => {
    const csv = path.join(dir, 'in.csv');
    const n = 5000;
    const day = (i: number) => `2026-11-${String((i % 9) + 1).padStart(2, '0')}`;
    const lines = range(n).map((i) => `${i},"n,""${i}""",${i % 5 === 0 ? '' : i / 4},${day(i)}`);
    writeFileSync(csv, ['id,name,amount,day', ...lines].join('\n') + '\n');
    const pool = new EncoderPool();
    const file = target();
    try {
      const w = writerOn(pool, file, 2500);
      const source = await openSource({ format: 'csv', path: csv, batchRows: 1000 });
      // The source's hold ends at once: the pool must keep the slab from being reused
      // for the next batch until its thread has read it.
      for await (const owned of source.batches()) {
        await w.write(owned.batch, owned.backing);
        owned.release();
      }
      expect(await closed(w)).toEqual({ rows: n, rowGroups: 2 });
      // 5 batches of 1000 rows; the group boundary at 2500 cuts the third in two.
      expect(pool.stats).toMatchObject({ batches: 6, readInPlace: 4 });
    } finally {
      await pool.destroy();
    }
    const back = pl.readParquet(file);
    expect(back.getColumn('id').toArray()).toEqual(range(n));
    expect(back.getColumn('name').toArray()).toEqual(range(n).map((i) => `n,"${i}"`));
    expect(back.getColumn('amount').toArray()).toEqual(range(n).map((i) => (i % 5 === 0 ? null : i / 4)));
    expect((back.getColumn('day').toArray() as unknown as Date[]).map((d) => d.toISOString().slice(0, 10))).toEqual(range(n).map(day));
  });

  it('gives every slab it holds back by the time it is destroyed', async () => {
    const arena = new SlabArena();
    const pool = new EncoderPool();
    const born = dataFrameToSlab(pl.DataFrame({ id: range(1000) }), arena);
    const slab = buffersOf(born.batches)[0] as SharedArrayBuffer;
    try {
      const w = writerOn(pool, target(), 10_000);
      await w.write(born.batches[0], born.backing);
      born.lease.release(); // the source is done with it; the pool may still hold it
      expect(pool.stats.readInPlace).toBe(1);
    } finally {
      await pool.destroy();
    }
    expect(refCount(slab)).toBe(0);
  });

  it('encodes row groups on two threads when they overlap, and writes them in order', async () => {
    const pool = new EncoderPool({ threads: 2 });
    const file = target();
    try {
      const w = writerOn(pool, file, 10_000);
      // One write cuts three groups before any thread can answer (a thread's reply is a message,
      // which no await between the groups lets in, whatever their size): the second goes to a
      // new thread; the short last group (on the less busy thread) is likely back before the first.
      await w.write(rowsFrom(0, 20_010));
      await w.write(rowsFrom(20_010, 5));
      expect(await closed(w)).toEqual({ rows: 20_015, rowGroups: 3 });
      expect(pool.stats.threadsStarted).toBe(2);
    } finally {
      await pool.destroy();
    }
    expect(await groupSizes(file)).toEqual([10_000, 10_000, 15]);
    expect(ids(file)).toEqual(range(20_015));
    const [[count, names]] = await duckdb(`SELECT count(*), count(DISTINCT name) FROM read_parquet('${file}')`);
    expect([Number(count), Number(names)]).toEqual([20_015, 20_015]);
  });

  it('destroy() stops each thread by itself between two messages, never terminated inside polars (that panics)', async () => {
    const pool = new EncoderPool({ threads: 1 });
    const w = writerOn(pool, target(), 200_000);
    // Enough rows that row groups are being encoded while the pool is destroyed.
    for (let b = 0; b < 30; b++) await w.write(rowsFrom(b * 10_000, 10_000));
    await pool.destroy();
    // A terminated thread exits with code 1; one that stopped by itself, 0.
    expect(pool.threadExits).toEqual([expect.objectContaining({ exitCode: 0 })]);
  });

  it('keeps a small output on one thread', async () => {
    const pool = new EncoderPool({ threads: 2 });
    const file = target();
    try {
      const w = writerOn(pool, file, 100_000);
      for (let b = 0; b < 5; b++) await w.write(rowsFrom(b * 100, 100));
      expect(await closed(w)).toEqual({ rows: 500, rowGroups: 1 });
      expect(pool.stats.threadsStarted).toBe(1);
    } finally {
      await pool.destroy();
    }
    expect(ids(file)).toEqual(range(500));
  });

  it('an aborted file gets nothing more, and the pool goes on serving others', async () => {
    const pool = new EncoderPool({ threads: 2 });
    const [kept, dropped] = [target(), target()];
    let sizeAtAbort = -1;
    try {
      const [a, b] = [writerOn(pool, kept, 1000), writerOn(pool, dropped, 1000)];
      await a.write(rowsFrom(0, 2500));
      await b.write(rowsFrom(0, 2500));
      await b.abort();
      sizeAtAbort = readFileSync(dropped).length;
      await a.write(rowsFrom(2500, 500));
      expect(await closed(a)).toEqual({ rows: 3000, rowGroups: 3 });
    } finally {
      await pool.destroy();
    }
    expect(ids(kept)).toEqual(range(3000));
    // Parts of the aborted file still on their way were not written (threads never write).
    expect(readFileSync(dropped).length).toBe(sizeAtAbort);
  });

  it('a batch polars cannot read fails its file (close rejects with the reason), not the pool', async () => {
    // In a child process: polars panics (expected) and Rust prints the panic straight to fd 2,
    // where jest cannot hide it and a reader of `npm test` takes it for a crash. Captured here.
    // The engine from dist/ when it is the build of src/ as it is (the same code, without the
    // TS loader and the compile of src/: ~1.5 CPU-s less), else from src/ with the loader.
    const engine = engineRoot();
    const loader = engine.endsWith('dist') ? [] : registerForChild();
    const r = await runNode([...loader, path.join(REPO, 'test/fixtures/scripts/parquet-encoder-bad-batch.cjs'), engine], { timeoutMs: 30_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/panicked at[\s\S]*DaysMs/) });
    expect(JSON.parse(r.stdout)).toEqual({ closeError: expect.stringMatching(/DaysMs/), alive: true, otherRows: 10 });
  });

  it('bounds rows waiting for a full row group over all open files', async () => {
    // A budget of one batch: waiting rows are written early as shorter row groups.
    const pool = new EncoderPool({ pendingBudgetBytes: 1 });
    const files = [target(), target()];
    try {
      const writers = files.map((f) => writerOn(pool, f, 500_000));
      for (let b = 0; b < 6; b++) await writers[b % 2].write(rowsFrom(b * 100, 100));
      for (const w of writers) expect((await closed(w)).rows).toBe(300);
    } finally {
      await pool.destroy();
    }
    for (const f of files) expect((await groupSizes(f)).length).toBe(3);
    expect(ids(files[0])).toEqual([0, 200, 400].flatMap((s) => range(100).map((i) => s + i)));
  });

  it('a destroyed or dead pool fails writes and closes instead of hanging', async () => {
    const pool = new EncoderPool();
    const w = writerOn(pool, target(), 1000);
    await w.write(rowsFrom(0, 10));
    await pool.destroy();
    await expect(w.write(rowsFrom(10, 10))).rejects.toThrow(SinkError);
    await expect(w.close()).rejects.toThrow(/Parquet encoder/);
  });
});
