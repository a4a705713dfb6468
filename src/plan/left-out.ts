import type { Plan } from './types';

/**
 * Per stage of the plan: per stage it runs (a fused stage's members, in order; one otherwise),
 * the columns projection pushdown left out that it would have received (`projection.missing`
 * is per stage of the config; sluice's own stages come after them and get none).
 */
export function leftOutPerStage(plan: Plan): string[][][] {
  const missing = plan.projection?.missing ?? [];
  let next = 0;
  return plan.stages.map((stage) => {
    if (stage.encode || stage.partition) return [[]];
    const members = stage.fused?.length ?? 1;
    next += members;
    return Array.from({ length: members }, (_, m) => missing[next - members + m] ?? []);
  });
}
