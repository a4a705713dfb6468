/**
 * The newcomer's stage (flights-stage.ts) with the one change the README recommends: the
 * output through `ctx.table({...})` instead of `tableFromArrays` (strings as Utf8 in one
 * buffer, no dictionary builder). Everything else is as obvious as before.
 */
import { createHash } from 'node:crypto';
import { defineStage } from 'sluice';

export default defineStage({
  process(batch, ctx) {
    const times = batch.getChild('dep_time')!.toArray() as BigInt64Array;
    const origins = batch.getChild('origin')!.toArray() as string[];
    const dests = batch.getChild('dest')!.toArray() as string[];
    const delays = batch.getChild('dep_delay')!.toArray() as BigInt64Array;
    const days: string[] = [];
    const routes: string[] = [];
    const delay: number[] = [];
    for (let i = 0; i < batch.numRows; i++) {
      days.push(new Date(Number(times[i])).toISOString().slice(0, 10));
      routes.push(createHash('sha256').update(`${origins[i]}-${dests[i]}`).digest('hex'));
      delay.push(Number(delays[i]));
    }
    return ctx.table({ day: days, origin: origins, delay, route: routes });
  },
});
