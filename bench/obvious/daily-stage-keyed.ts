/**
 * The newcomer's aggregate (daily-stage.ts) as several copies by key: the config routes rows by
 * `key: ['day', 'origin']`, so each copy holds every row of its groups and flushes them whole:
 * no combine. State per copy (copies of an inline stage share this module).
 */
import { tableFromArrays } from 'apache-arrow';
import { defineStage } from 'sluice';

type Group = { day: string; origin: string; flights: number; delay: number; routes: Set<string> };
const byCopy = new Map<number, Map<string, Group>>();
const groupsOf = (copy: number) => byCopy.get(copy) ?? byCopy.set(copy, new Map()).get(copy)!;

export default defineStage({
  process(batch, ctx) {
    const groups = groupsOf(ctx.copy);
    const days = batch.getChild('day')!.toArray() as string[];
    const origins = batch.getChild('origin')!.toArray() as string[];
    const delays = batch.getChild('delay')!.toArray() as Float64Array;
    const routes = batch.getChild('route')!.toArray() as string[];
    for (let i = 0; i < batch.numRows; i++) {
      const key = `${days[i]}|${origins[i]}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { day: days[i], origin: origins[i], flights: 0, delay: 0, routes: new Set() }));
      g.flights++;
      g.delay += delays[i];
      g.routes.add(routes[i]);
    }
  },
  flush(ctx) {
    const all = [...groupsOf(ctx.copy).values()];
    return tableFromArrays({
      day: all.map((g) => g.day),
      origin: all.map((g) => g.origin),
      flights: Int32Array.from(all, (g) => g.flights),
      delay: Float64Array.from(all, (g) => g.delay),
      routes: Int32Array.from(all, (g) => g.routes.size),
    });
  },
});
