/**
 * The survival bench's crash (bench/survival.ts): passes batches through, and the first time any
 * copy sees the batch whose first `txn_id` is `options.firstId`, SIGKILLs its own process (a
 * marker file created with O_EXCL makes "the first time" hold across copies and their
 * replacements, with no timing). `firstId: -1`: never (the fault-free run of the same job).
 */
import { closeSync, openSync } from 'node:fs';
import { defineStage } from 'sluice';

export default defineStage<{ firstId: number; marker: string }>({
  process(batch, ctx) {
    if (ctx.options.firstId < 0 || !batch.numRows || Number(batch.getChild('txn_id')?.get(0)) !== ctx.options.firstId) return batch;
    try {
      closeSync(openSync(ctx.options.marker, 'wx'));
    } catch {
      return batch; // not the first time: the replacement passes it on
    }
    process.kill(process.pid, 'SIGKILL');
    return new Promise<never>(() => undefined);
  },
});
