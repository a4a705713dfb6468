/**
 * Inside the source thread: reads and parses the input with the same `openSource` as the
 * main thread would, packs each batch into a recycled shared-memory slab and posts its
 * descriptor. It reads only while it holds credit (main grants a few batches of read-ahead
 * and one more for each batch it takes), so memory stays bounded by the plan.
 */
import '../../arrow-bundle'; // first: every apache-arrow of this thread is the one bundled file
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { cutForReader } from '../../batch/key-split';
import { toShared } from '../../batch/shared';
import { SlabArena } from '../../batch/slab';
import { serializeError } from '../../errors';
import { createForwardingLogger } from '../../log/forwarding';
import type { SourceReply, SourceRequest, SourceThreadData } from '../../protocol/source';
import { sourceArenaStats } from './arrow-convert';
import { openSource, type BadRow, type SourceOptions } from './index';

const data = workerData as SourceThreadData;
const port = parentPort!;
const post = (m: SourceReply) => port.postMessage(m);
const log = createForwardingLogger(data.logLevel, (line) => post({ type: 'log', line }), { thread: 'source' });
/** Packs the batches a reader did not make in a slab (polars-made batches are born in sourceArenaStats' arena). */
const arena = new SlabArena();
const slabAllocations = () => arena.stats.allocations + sourceArenaStats.allocations;

let credit = 0;
let closing = false;
let wake: (() => void) | undefined;
port.on('message', (m: SourceRequest) => {
  if (m.type === 'pull') credit += m.batches;
  else closing = true;
  wake?.();
});

async function creditOrClose(): Promise<void> {
  while (credit === 0 && !closing) await new Promise<void>((resolve) => (wake = resolve));
  wake = undefined;
}

async function read(): Promise<void> {
  // This thread's heap is small: a full collection after every batch costs little.
  const onBadRow = data.salvage ? (row: BadRow) => post({ type: 'bad-row', row }) : undefined;
  const source = await openSource(data.cfg as SourceOptions, { log, readSize: data.readSize, reclaim: { growthBytes: 0 }, ...(onBadRow && { onBadRow }) });
  const batches = source.batches();
  try {
    for (;;) {
      await creditOrClose();
      if (closing) return;
      const r = await batches.next();
      if (r.done) {
        post({ type: 'end', bytesRead: source.stats().bytesRead, slabAllocations: slabAllocations() });
        return;
      }
      credit--;
      // Batches parsed by polars are born in slabs (referenced here, not copied); others are
      // packed into one. The descriptor's lease goes to main, which releases it when done.
      const owned = r.value;
      // Read by a keyed stage only: cut here, into the parts its copies get (main only routes them).
      let cut: ReturnType<typeof cutForReader> | undefined;
      try {
        cut = data.splitOut && cutForReader(owned, data.splitOut, { seq: owned.seq, sourceFile: owned.sourceFile, threadId });
      } catch (err) {
        owned.release();
        throw err;
      }
      const { shared } = toShared(cut?.batches ?? owned.batches, arena, { backing: cut ? cut.backing : owned.backing });
      owned.release();
      post({ type: 'batch', file: owned.sourceFile!, shared, bytesRead: source.stats().bytesRead, slabAllocations: slabAllocations(), ...(cut && { split: cut.split }) });
    }
  } finally {
    await batches.return(undefined);
    await source.close();
  }
}

read()
  .catch((err) => post({ type: 'failed', error: serializeError(err) }))
  .then(async () => {
    // The file is closed. Stay until main says close: it may still release slabs of this arena.
    while (!closing) await new Promise<void>((resolve) => (wake = resolve));
    post({ type: 'closed' });
  });
