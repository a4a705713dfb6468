/**
 * Projection pushdown: which of the source's columns a run needs, followed back from the sink
 * through what each stage says it reads (`reads`, and its `key`) and passes on (`outputColumns`,
 * `keepsColumns`). A column no stage reads and the sink does not get is never parsed,
 * converted or handed off (on the benchmark's nightly job, 4 of 10 columns: 0.87× wall). A
 * stage that does not say what it reads may read anything it receives, so then everything
 * before it is needed, and nothing is left out.
 */
import type { StageDefinition } from '../worker/api';
import { callWithoutExit } from '../worker/load';
import type { Known } from './columns-downstream';

export interface Projection {
  /** The columns to read, in the order the first stage would have received them. */
  columns: string[];
  /** The columns left out: no stage reads them and the sink does not get them. */
  pruned: string[];
  /**
   * Per stage (config order): the left-out columns it would have received without pushdown.
   * A stage that asks for one of these by name fails naming it, and so does one that learns its
   * column list without declaring `passesOnUnlisted` (batch/left-out-guard.ts)
   * rather than getting "no such column" and, say, a default in its place.
   */
  missing: string[][];
}

/**
 * `flow`: the columns each stage receives and each sink gets, and who reads whom
 * (columns-downstream.ts). Undefined when nothing can be left out, or when a stage does not
 * say what it reads. In a graph, what a producer must pass on is what all its readers need:
 * every column, for a sink; for a stage, what it reads and what it passes on that is needed
 * after it. Stages come after what they read (config/graph.ts), so one pass from the last
 * stage back to the first sees every reader of a stage before the stage itself.
 */
export function pushDownColumns(
  stages: readonly { options?: unknown; key?: unknown }[],
  definitions: ReadonlyMap<number, StageDefinition>,
  flow: { inputs: readonly Known[]; output: Known; stageInputs?: readonly (number | undefined)[]; sinks?: readonly { from: number | undefined; columns: Known }[] },
): Projection | undefined {
  if (stages.length === 0) return undefined;
  const stageInputs = flow.stageInputs ?? stages.map((_, i) => i - 1);
  const sinks = flow.sinks ?? [{ from: stages.length - 1, columns: flow.output }];
  if (stageInputs.some((p) => p === undefined) || sinks.some((s) => s.from === undefined || !s.columns.known)) return undefined;
  // needed[p + 1]: the columns producer p (-1: the source) must pass on.
  const needed = Array.from({ length: stages.length + 1 }, () => new Set<string>());
  for (const sink of sinks) for (const c of (sink.columns as Known & { known: true }).columns) needed[sink.from! + 1].add(c); // the sink writes every column it gets
  for (let i = stages.length - 1; i >= 0; i--) {
    const input = flow.inputs[i];
    const reads = readsOf(definitions.get(i), stages[i]?.options);
    if (!input?.known || !reads) return undefined;
    // What it reads, its key columns (keyed routing reads them before the stage does), and what
    // it passes on that is needed after it (a column it makes is made from what it reads).
    const key = Array.isArray(stages[i]?.key) ? (stages[i].key as string[]) : [];
    const after = needed[i + 1];
    for (const c of [...reads, ...key, ...input.columns.filter((c) => after.has(c))]) needed[stageInputs[i]! + 1].add(c);
  }
  const sourceColumns = stageInputs.includes(-1) ? flow.inputs[stageInputs.indexOf(-1)] : sinks.find((s) => s.from === -1)?.columns;
  if (!sourceColumns?.known) return undefined;
  const fromSource = needed[0];
  const pruned = sourceColumns.columns.filter((c) => !fromSource.has(c));
  if (!pruned.length) return undefined;
  const missing = flow.inputs.slice(0, stages.length).map((input) => (input.known ? input.columns.filter((c) => pruned.includes(c)) : []));
  return { columns: sourceColumns.columns.filter((c) => fromSource.has(c)), pruned, missing };
}

/** The stage's `reads(options)`, or undefined when it has none or it fails (the checks report that). */
function readsOf(definition: StageDefinition | undefined, options: unknown): readonly string[] | undefined {
  if (!definition?.reads) return undefined;
  try {
    const reads = callWithoutExit("the stage's reads(options)", () => definition.reads!((options ?? {}) as Record<string, unknown>));
    return Array.isArray(reads) && reads.every((c) => typeof c === 'string') ? reads : undefined;
  } catch {
    return undefined;
  }
}
