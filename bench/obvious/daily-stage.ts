/**
 * The newcomer's aggregate, inline: a JS Map per (day, origin), reading `toArray()` again;
 * flights, total delay and distinct hashed routes per group, emitted at flush.
 */
import { tableFromArrays } from 'apache-arrow';
import { defineStage } from 'sluice';

const groups = new Map<string, { day: string; origin: string; flights: number; delay: number; routes: Set<string> }>();

export default defineStage({
  process(batch) {
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
  flush() {
    const all = [...groups.values()];
    return tableFromArrays({
      day: all.map((g) => g.day),
      origin: all.map((g) => g.origin),
      flights: Int32Array.from(all, (g) => g.flights),
      delay: Float64Array.from(all, (g) => g.delay),
      routes: Int32Array.from(all, (g) => g.routes.size),
    });
  },
});
