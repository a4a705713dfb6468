/**
 * A first stage as a newcomer writes it (issue: "fast for the code users actually write"):
 * plain `toArray()` on the string and timestamp columns, `createHash('sha256')` per row,
 * `tableFromArrays` for the output. Kept as it is on purpose: the bench measures what sluice
 * makes of this code, not what an expert would write instead. `options.output: 'table'` makes
 * the one change the README recommends: the output through `ctx.table({...})` (strings as Utf8
 * in one buffer, no dictionary builder).
 */
import { createHash } from 'node:crypto';
import { tableFromArrays } from 'apache-arrow';
import { defineStage } from 'sluice';

export default defineStage<{ output?: 'table' | 'tableFromArrays' }>({
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
    if (ctx.options.output === 'table') return ctx.table({ day: days, origin: origins, delay, route: routes });
    return tableFromArrays({ day: days, origin: Array.from(origins), delay: Float64Array.from(delay), route: routes });
  },
});
