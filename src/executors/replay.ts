/**
 * Whether a stage's copy can be replaced mid-stream (retries): a stage with `flush` keeps state
 * across batches (an aggregate, a dedup set) that dies with its copy, and replaying only the
 * batches in flight would flush a partial answer. Such a stage is never replaced: its copy's
 * death fails the run with this reason. (Making `combine` partials recoverable would need them
 * persisted per unit: the units/resume work; until then, refused here.)
 */
import type { PlannedStage } from '../plan/types';
import { loadStageDefinition } from '../worker/load';

/** Undefined when every member is stateless; else why its copies cannot be replaced. */
export async function whyNotReplayable(planned: PlannedStage): Promise<string | undefined> {
  if (!planned.retries) return undefined; // no retries: nothing is replayed, nothing to load
  const members = planned.fused ?? [{ name: planned.name, modulePath: planned.modulePath }];
  for (const m of members) {
    const definition = await loadStageDefinition(m.modulePath);
    if (typeof definition.flush === 'function') {
      return `stage "${m.name}" has flush(): the state its copy held is lost with it and cannot be replayed mid-stream, so retries do not apply to it`;
    }
  }
  return undefined;
}
