/**
 * Fusion of adjacent stages (Ray Data fuses consecutive map operators into one task; Spark
 * pipelines narrow transformations in one task): consecutive `thread` stages with the same
 * copies run inside one worker per copy, each batch passed from one to the next in that thread
 * with no hand-off, no channel and no scheduling between them. Consecutive `inline` stages with
 * the same copies are fused the same way on the main thread: no channel between them, and a
 * polars DataFrame one returns reaches the next as it is, not through Arrow and back
 * (batch/frame-handoff.ts; in a fused thread group as well). Their results are the same:
 * order is kept by batch, flushes run member after member (worker/chain.ts), and a member's
 * `combine` still merges its copies' partials on the main thread before the members after it.
 * The fused stage is named by its members joined with `+` (`parse+enrich`), as in explain,
 * the report and the live display; errors name the member that failed.
 *
 * A stage with `onError` other than `fail` is never fused: its throwing rows are found by re-running
 * it alone on parts of a batch (runtime/bisect.ts), and the rejects must name it, not its group.
 * A keyed stage (`key`) is never fused: its rows are routed to copies by key before it runs, so
 * a stage before it in the same copy would see rows of the wrong keys' routing, and a stage
 * after it would take its copy's keys (even the same key, once a member changed its values).
 */
import type { PlannedNode } from './types';

/**
 * `readers(i)`: how many stages and sinks read stage i. Only a stage read by the next one
 * alone is fused with it: a stage that feeds a branch as well must hand its batches on.
 * Returns the stages, their `input`s renumbered, and where each stage of `stages` went.
 */
export function fuseAdjacent(stages: readonly PlannedNode[], readers: (i: number) => number = () => 1): { stages: PlannedNode[]; at: number[] } {
  const out: PlannedNode[] = [];
  const at: number[] = [];
  stages.forEach((s, i) => {
    const prev = out.at(-1);
    if (prev && s.input === i - 1 && readers(i - 1) === 1 && fusable(prev, s)) {
      const members = [...(prev.fused ?? [memberOf(prev)]), memberOf(s)];
      out[out.length - 1] = { ...prev, name: members.map((m) => m.name).join('+'), output: s.output, fused: members };
    } else out.push({ ...s, input: s.input < 0 ? -1 : at[s.input] });
    at.push(out.length - 1);
  });
  return { stages: out, at };
}

/** Only the config's own stages come here: plan/build.ts fuses before it adds the stages before the sink. */
function fusable(a: PlannedNode, b: PlannedNode): boolean {
  // A fused group is retried and timed as one (a death loses the batch in every member): only
  // stages that ask for the same retries and timeout share a copy.
  const sameRecovery = (a.retries ?? 0) === (b.retries ?? 0) && a.timeoutMs === b.timeoutMs;
  const sameMode = a.mode === b.mode && (a.mode === 'thread' || a.mode === 'inline');
  return sameMode && a.copies === b.copies && a.slotsPerCopy === b.slotsPerCopy && !a.key && !b.key && sameRecovery && !a.onError && !b.onError;
}

function memberOf(s: PlannedNode): NonNullable<PlannedNode['fused']>[number] {
  return { name: s.name, modulePath: s.modulePath, options: s.options };
}
