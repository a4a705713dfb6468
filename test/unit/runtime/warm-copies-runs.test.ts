/**
 * A cluster worker keeps a run's thread and process copies warm from one unit of that run to
 * the next (runtime/warm-copies.ts): the one place copies, and so module instances, serve more
 * than one unit. They never serve another run: a set given back by run A goes to A's next unit
 * only, and a unit of run B starts a set of its own (so module-level state in a warm copy is
 * one run's). Sets of a plan with no kept stage start nothing, so this costs no thread.
 */
import pino from 'pino';
import type { Plan } from '../../../src/plan/types';
import { WarmCopies } from '../../../src/runtime/warm-copies';

it('a set given back by run A serves A\'s next unit, never a unit of run B', async () => {
  const warm = new WarmCopies();
  const plan = { stages: [] } as unknown as Plan;
  const log = pino({ level: 'silent' });
  try {
    const a = await warm.take('A', plan, log);
    await warm.give('A', a, true);
    const b = await warm.take('B', plan, log);
    expect(b).not.toBe(a);
    expect(await warm.take('A', plan, log)).toBe(a);
    await warm.give('B', b, true);
    // Run B's set waits for B; run C starts its own.
    expect(await warm.take('C', plan, log)).not.toBe(b);
    expect(warm.counts).toEqual({ started: 3, reused: 1, dropped: 0 });
  } finally {
    await warm.stop();
  }
});
