/**
 * The newcomer's aggregate (daily-stage.ts) made to run as several copies: state per copy
 * (copies of an inline stage share this module), each copy flushes its partial groups, and
 * `combine` merges them (the map-side combine). Routes are merged as sets, so a route seen by
 * both copies counts once.
 */
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { defineStage } from 'sluice';

type Group = { day: string; origin: string; flights: number; delay: number; routes: Set<string> };
const byCopy = new Map<number, Map<string, Group>>();
const groupsOf = (copy: number) => byCopy.get(copy) ?? byCopy.set(copy, new Map()).get(copy)!;

function add(groups: Map<string, Group>, day: string, origin: string, flights: number, delay: number, routes: Iterable<string>) {
  const key = `${day}|${origin}`;
  let g = groups.get(key);
  if (!g) groups.set(key, (g = { day, origin, flights: 0, delay: 0, routes: new Set() }));
  g.flights += flights;
  g.delay += delay;
  for (const r of routes) g.routes.add(r);
}

export default defineStage({
  process(batch, ctx) {
    const groups = groupsOf(ctx.copy);
    const days = batch.getChild('day')!.toArray() as string[];
    const origins = batch.getChild('origin')!.toArray() as string[];
    const delays = batch.getChild('delay')!.toArray() as Float64Array;
    const routes = batch.getChild('route')!.toArray() as string[];
    for (let i = 0; i < batch.numRows; i++) add(groups, days[i], origins[i], 1, delays[i], [routes[i]]);
  },
  flush(ctx) {
    // Partial groups, routes joined by '|' (a partial's distinct routes travel as one string).
    const all = [...groupsOf(ctx.copy).values()];
    return tableFromArrays({
      day: all.map((g) => g.day),
      origin: all.map((g) => g.origin),
      flights: Int32Array.from(all, (g) => g.flights),
      delay: Float64Array.from(all, (g) => g.delay),
      routes: all.map((g) => [...g.routes].join('|')),
    });
  },
  combine(partials: RecordBatch[], ctx) {
    const total = new Map<string, Group>();
    for (const p of partials) {
      const days = p.getChild('day')!.toArray() as string[];
      const origins = p.getChild('origin')!.toArray() as string[];
      const flights = p.getChild('flights')!.toArray() as Int32Array;
      const delays = p.getChild('delay')!.toArray() as Float64Array;
      const routes = p.getChild('routes')!.toArray() as string[];
      for (let i = 0; i < p.numRows; i++) add(total, days[i], origins[i], flights[i], delays[i], routes[i].split('|'));
    }
    const all = [...total.values()];
    return ctx.table({ day: all.map((g) => g.day), origin: all.map((g) => g.origin), flights: Int32Array.from(all, (g) => g.flights), delay: Float64Array.from(all, (g) => g.delay), routes: Int32Array.from(all, (g) => g.routes.size) });
  },
});
