/**
 * The source on its own thread: the same batches as reading on the main thread, in shared
 * memory, with bounded read-ahead and recycled slabs; errors keep their location, and a
 * dead thread ends the read with an error instead of a hang.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import pl from 'nodejs-polars';
import type { OwnedBatch } from '../../../../src/batch/owned';
import { buffersOf } from '../../../../src/batch/shared';
import { isSlab } from '../../../../src/batch/slab';
import { SourceError } from '../../../../src/errors';
import { openSource, type SourceOptions } from '../../../../src/io/sources';
import { openThreadSource, type ThreadSource } from '../../../../src/io/sources/thread';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-src-thread-'));
const csv = path.join(dir, 'rows.csv');
beforeAll(() => {
  const lines = ['id,name,note,x'];
  for (let i = 0; i < 5000; i++) lines.push(`${i},n${i % 13},"a, ""quoted""\nnote ${i}",${i / 4}`);
  writeFileSync(csv, lines.join('\n') + '\n');
});

const rowsOf = (batches: RecordBatch[]) => batches.flatMap((b) => b.toArray().map((r) => JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? String(v) : v))));

async function readAll<S extends { batches(): AsyncGenerator<OwnedBatch>; close(): Promise<void> }>(open: () => Promise<S>) {
  const source = await open();
  const batches: RecordBatch[] = [];
  const leases: OwnedBatch[] = [];
  for await (const owned of source.batches()) {
    batches.push(owned.batch);
    leases.push(owned);
  }
  return { batches, leases, source };
}

describe('source thread', () => {
  const formats: [string, () => SourceOptions][] = [
    ['csv', () => ({ format: 'csv', path: csv, batchRows: 700 })],
    [
      'parquet',
      () => {
        const p = path.join(dir, 'rows.parquet');
        pl.readCSV(csv).writeParquet(p);
        return { format: 'parquet', path: p, batchRows: 700 };
      },
    ],
    [
      'ndjson',
      () => {
        const p = path.join(dir, 'rows.ndjson');
        writeFileSync(p, Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: i, s: `v${i}` })).join('\n') + '\n');
        return { format: 'ndjson', path: p, batchRows: 300 };
      },
    ],
  ];

  it.each(formats)('reads %s exactly as the main thread does, every buffer in a slab', async (_format, make) => {
    const cfg = make();
    const here = await readAll(() => openSource(cfg));
    const there = await readAll(() => openThreadSource(cfg));
    try {
      expect(there.batches.length).toBe(here.batches.length);
      expect(there.batches.map((b) => b.schema.fields.map((f) => `${f.name}:${f.type}`))).toEqual(here.batches.map((b) => b.schema.fields.map((f) => `${f.name}:${f.type}`)));
      expect(rowsOf(there.batches)).toEqual(rowsOf(here.batches));
      expect(buffersOf(there.batches).every(isSlab)).toBe(true);
      expect(there.leases.every(Boolean)).toBe(true);
    } finally {
      await there.source.close();
    }
  });

  it('reads ahead at most readAhead batches, and reuses the slabs released to it', async () => {
    const source = await openThreadSource({ format: 'csv', path: csv, batchRows: 100 }, { readAhead: 2 });
    const ready = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (source.waitingNow >= n || source.ended ? (source.worker.off('message', check), resolve()) : undefined);
        source.worker.on('message', check);
        check();
      });
    let batches = 0;
    try {
      const it = source.batches();
      for (;;) {
        // A slow consumer: before each batch, let the thread fill its read-ahead.
        await ready(2);
        const r = await it.next();
        if (r.done) break;
        batches++;
        r.value.release();
      }
      expect(batches).toBe(50);
      expect(source.peakWaiting).toBe(2);
      // Each batch goes back before the next is taken: a few slabs serve all 50 batches.
      // At least one: the figure counts the slabs the batches live in (polars writes them there).
      expect(source.slabAllocations).toBeGreaterThanOrEqual(1);
      expect(source.slabAllocations).toBeLessThanOrEqual(4);
    } finally {
      await source.close();
    }
  });

  it('counts its own slabs: batches whose leases are held each need a new one', async () => {
    const held = await readAll(() => openThreadSource({ format: 'csv', path: csv, batchRows: 100 }, { readAhead: 2 }));
    try {
      expect(held.batches.length).toBe(50);
      expect(held.source.slabAllocations).toBeGreaterThanOrEqual(50);
    } finally {
      held.leases.forEach((l) => l.release());
      await held.source.close();
    }
  });

  it('a bad value is a SourceError with the same file, line and column as on the main thread', async () => {
    const p = path.join(dir, 'bad.csv');
    const lines = ['id,x'];
    for (let i = 0; i < 50; i++) lines.push(`${i},${i}.5`);
    lines.push('50,oops');
    writeFileSync(p, lines.join('\n') + '\n');
    const cfg: SourceOptions = { format: 'csv', path: p, batchRows: 10, inferRows: 10 };
    const here = await readAll(() => openSource(cfg)).catch((e: unknown) => e);
    const there = await readAll(() => openThreadSource(cfg)).catch((e: unknown) => e);
    expect(here).toBeInstanceOf(SourceError);
    expect(there).toBeInstanceOf(SourceError);
    expect((there as SourceError).message).toBe((here as SourceError).message);
    expect(there).toMatchObject({ code: 'SLUICE_SOURCE_INVALID', file: p, line: 52, column: 'x' });
  });

  it('a source thread that dies ends the read with an error, not a hang', async () => {
    const source: ThreadSource = await openThreadSource({ format: 'csv', path: csv, batchRows: 100 }, { readAhead: 2 });
    const it = source.batches();
    await it.next();
    // Kill it while it waits for credit (its read-ahead full), not inside a polars call.
    await new Promise<void>((resolve) => {
      const check = () => source.waitingNow === 2 && (source.worker.off('message', check), resolve());
      source.worker.on('message', check);
      check();
    });
    await source.worker.terminate();
    await expect(
      (async () => {
        for (;;) if ((await it.next()).done) return;
      })(),
    ).rejects.toThrow(/^stage "source", batch #\d+, from .*: worker exited with code \d+: the source thread; sluice's own thread, not replaced/);
    await source.close();
  });

  it('close() mid-stream stops the thread', async () => {
    const source = await openThreadSource({ format: 'csv', path: csv, batchRows: 100 });
    await source.batches().next();
    const exited = new Promise<number>((resolve) => source.worker.once('exit', resolve));
    await source.close();
    await expect(exited).resolves.toEqual(expect.any(Number));
  });
});
