/**
 * Tasks an executor lets the scheduler have in flight: the plan's figure, never one of the
 * executor's own, because the plan's memory bound counts exactly those tasks' inputs. The
 * plan takes it from defaults.ts `SLOTS_PER_COPY`.
 */
import type { PlannedStage } from '../plan/types';

/**
 * `copies × slotsPerCopy` from the plan. `mostPerCopy`: what a copy of this mode can hold; a
 * plan asking for more is a bug said at once, not a bound silently broken.
 */
export function plannedSlots(planned: PlannedStage, mostPerCopy = Number.MAX_SAFE_INTEGER): number {
  const n = planned.slotsPerCopy;
  if (!Number.isInteger(n) || n < 1 || n > mostPerCopy) {
    const can = mostPerCopy === 1 ? 'exactly 1 (a copy runs one task at a time)' : `an integer from 1 to ${mostPerCopy}`;
    throw new RangeError(`stage "${planned.name}": the plan gives ${n} tasks per ${planned.mode} copy; it must be ${can}`);
  }
  return planned.copies * n;
}
