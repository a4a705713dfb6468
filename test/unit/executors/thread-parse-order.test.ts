/**
 * A thread stage that parses its chunks (fusion) reports a chunk that does not parse only after
 * every chunk before it settled: the earliest failure in input order fails the run, whichever
 * copy finished first. The copies are replaced by promises this test settles in the order it
 * wants (real copies finish in whatever order the machine gives).
 */
import pino from 'pino';
import { csvChunkItem } from '../../../src/csv/item';
import type { CsvChunk } from '../../../src/csv/parse';
import { SourceError, StageError } from '../../../src/errors';
import { ThreadExecutor } from '../../../src/executors/thread';
import { OwnedBatch } from '../../../src/batch/owned';

const chunk = (firstLine: number): CsvChunk => ({
  text: Buffer.from('c0\n1\n'),
  prefixLength: 3,
  rows: 1,
  firstLine,
  parse: { file: '/in.csv', base: { hasHeader: true, sep: ',', quoteChar: '"', ignoreErrors: false }, columns: ['n'], fields: ['c0'], types: { n: 'int64' } },
});

function executor() {
  const e = new ThreadExecutor({ name: 's', modulePath: '/s.ts', mode: 'thread', copies: 2, slotsPerCopy: 1, options: {}, output: { capacity: 4, capacityBytes: 1 << 20 } }, { log: pino({ level: 'silent' }) });
  const pending: { resolve: (v: OwnedBatch) => void; reject: (e: unknown) => void }[] = [];
  // The copies' work, settled by the test.
  (e as unknown as { processItem: () => Promise<OwnedBatch> }).processItem = () => new Promise((resolve, reject) => pending.push({ resolve, reject }));
  return { e, pending };
}

it('a chunk that fails to parse waits for the chunk before it: that one failing first is the run\'s error', async () => {
  const { e, pending } = executor();
  const first = e.process(csvChunkItem(chunk(2)));
  const second = e.process(csvChunkItem(chunk(3)));
  const order: string[] = [];
  first.catch(() => order.push('first'));
  second.catch(() => order.push('second'));
  pending[1].reject(new SourceError('bad value', { file: '/in.csv', line: 3 })); // the later chunk fails first
  await new Promise((r) => setImmediate(r));
  expect(order).toEqual([]); // held back: the chunk before it is still running
  pending[0].reject(new StageError({ stage: 's', seq: 0 }, 'process', new Error('boom')));
  await Promise.allSettled([first, second]);
  expect(order).toEqual(['first', 'second']);
});

it('a chunk that fails to parse is reported once the chunk before it went through', async () => {
  const { e, pending } = executor();
  const first = e.process(csvChunkItem(chunk(2)));
  const second = e.process(csvChunkItem(chunk(3)));
  const bad = new SourceError('bad value', { file: '/in.csv', line: 3 });
  pending[1].reject(bad);
  pending[0].resolve(OwnedBatch.plain(0, []));
  await expect(first).resolves.toBeInstanceOf(OwnedBatch);
  await expect(second).rejects.toBe(bad);
});

it('a batch of rows (no parsing) is not held back', async () => {
  const { e, pending } = executor();
  const first = e.process(csvChunkItem(chunk(2)));
  const rows = e.process(OwnedBatch.plain(1, []));
  const err = new StageError({ stage: 's', seq: 1 }, 'process', new Error('boom'));
  pending[1].reject(err);
  await expect(rows).rejects.toBe(err);
  pending[0].resolve(OwnedBatch.plain(0, []));
  await first;
});

it('waits for every chunk before it, not only the one just before (that one may finish first)', async () => {
  const { e, pending } = executor();
  const items = [2, 3, 4].map((line) => e.process(csvChunkItem(chunk(line))));
  const order: string[] = [];
  items.forEach((p, i) => p.then(() => order.push(`ok ${i}`), () => order.push(`failed ${i}`)));
  pending[1].resolve(OwnedBatch.plain(1, [])); // the chunk just before the bad one is done…
  pending[2].reject(new SourceError('bad value', { file: '/in.csv', line: 4 }));
  await new Promise((r) => setImmediate(r));
  expect(order).toEqual(['ok 1']); // …but the first is still running: the failure waits
  pending[0].reject(new SourceError('bad value', { file: '/in.csv', line: 2 }));
  await Promise.allSettled(items);
  expect(order).toEqual(['ok 1', 'failed 0', 'failed 2']);
});
