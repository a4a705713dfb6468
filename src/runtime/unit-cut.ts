/**
 * Where a resumable run with stateful stages is cut (io/units). A stage with `flush` keeps
 * state across units (an aggregate): staging its output per unit cannot work, since a resumed
 * run would flush only the units it read. So the graph is cut in two: the **head**, every stage
 * not downstream of a stateful one, runs per unit and its output at the cut (the input of the
 * stateful stages) is staged with the sinks' units; the **tail**, every stateful stage and
 * everything downstream of one, runs again at the job commit over all staged units of the cut,
 * in input order, and writes the real sinks. A resumed run reads only its missing units, and
 * the tail still sees every row, in the order an uninterrupted run gave it.
 *
 * A fresh run (no unit carried from an earlier attempt) runs its tail **live** instead: in the
 * run's one scheduler, reading the cut place beside the staging (a fan-out: each reader holds
 * the same batch), writing its sinks' temporaries during the run, committed with the others.
 * Staging the cut still lets a killed run resume; replaying it at the commit cost a fresh run
 * the tail run serially after the input, and every staged row read back (issue 26's bench).
 * The tail's sinks are never staged per unit, so they hold no unit back (units.ts `unstaged`).
 *
 * One cut place only: the tail's stages that read the head all read the same place (the
 * source or one stage). Several would need several staged streams replayed in step; refused.
 */
import { ConfigError } from '../errors';

export interface UnitCut {
  /** Plan stage indices run per unit (before the commit), in plan order. */
  head: number[];
  /** Plan stage indices run at the commit over the staged cut, in plan order. */
  tail: number[];
  /** The place whose output is staged for the tail: a head stage's index, or -1 for the source. */
  at: number;
  /** Plan sink indices fed by the head (staged per unit), and by the tail (written at the commit). */
  headSinks: number[];
  tailSinks: number[];
}

interface GraphLike {
  stages: readonly { name: string; input: number }[];
  sinks: readonly { from: number }[];
}

/** The cut for `stateful` (per plan stage: whether it, or a member fused into it, has flush); undefined when none is. */
export function cutAtState(plan: GraphLike, stateful: readonly boolean[]): UnitCut | undefined {
  if (!stateful.some(Boolean)) return undefined;
  // Plan order puts every stage after what it reads: one pass finds everything downstream.
  const inTail = plan.stages.map(() => false);
  plan.stages.forEach((s, i) => (inTail[i] = stateful[i] || (s.input >= 0 && inTail[s.input])));
  const tail = plan.stages.flatMap((_, i) => (inTail[i] ? [i] : []));
  const head = plan.stages.flatMap((_, i) => (inTail[i] ? [] : [i]));
  const readsHead = (i: number) => plan.stages[i].input < 0 || !inTail[plan.stages[i].input];
  const places = new Set(tail.filter(readsHead).map((i) => plan.stages[i].input));
  if (places.size !== 1) {
    const names = tail.filter(readsHead).map((i) => `"${plan.stages[i].name}"`);
    throw new ConfigError([
      {
        path: 'resumable',
        message: `the stages with flush() (or after one) read from ${places.size} different places (${names.join(', ')}): a resumable run stages one place's output per unit and runs the stateful stages again over it at the commit; make them read one stage, or drop resumable`,
      },
    ]);
  }
  const at = [...places][0];
  const fromTail = (k: number) => plan.sinks[k].from >= 0 && inTail[plan.sinks[k].from];
  return {
    head,
    tail,
    at,
    headSinks: plan.sinks.flatMap((_, k) => (fromTail(k) ? [] : [k])),
    tailSinks: plan.sinks.flatMap((_, k) => (fromTail(k) ? [k] : [])),
  };
}

/**
 * A part of the graph as a scheduler sees it: `stages` (plan indices, in plan order) numbered
 * from 0, what each reads (`source`: the plan index that is this part's source, -1 for the
 * run's source), and what each of `sinkFroms` (plan indices) reads, in the same numbering.
 */
export function localTopology(stages: readonly number[], inputs: readonly number[], sinkFroms: readonly number[], source = -1): { inputs: number[]; sinkInputs: number[] } {
  const local = new Map(stages.map((g, l) => [g, l]));
  const toLocal = (g: number): number => {
    if (g === source) return -1;
    const l = local.get(g);
    if (l === undefined) throw new Error(`internal: plan stage ${g} is not in this part of the graph`);
    return l;
  };
  return { inputs: stages.map((g) => toLocal(inputs[g])), sinkInputs: sinkFroms.map(toLocal) };
}

/** How a resumable run carries the state of its cut's stateful stage across units (runtime/unit-partials.ts), and why. */
export type UnitState = { way: 'partials'; stage: number } | { way: 'cut'; why: string };

/**
 * A stage with `flush` and `combine` that alone reads the cut place is run per unit, its
 * partials staged (unit-partials.ts): every unit's rows through a fresh instance, `combine` over
 * all partials at the end. Anything else keeps the cut's input staged and its tail run again at
 * a resumed run's commit (this module's header). `combines`: per plan stage, whether its module
 * has `combine`.
 */
export function unitStateOf(plan: GraphLike & { stages: readonly { fused?: unknown; key?: unknown; copies: number }[] }, cut: UnitCut, combines: readonly boolean[]): UnitState {
  const readers = cut.tail.filter((i) => plan.stages[i].input === cut.at);
  if (readers.length !== 1) return { way: 'cut', why: `${readers.length} stages with flush() read ${cut.at < 0 ? 'the source' : `"${plan.stages[cut.at].name}"`}` };
  const s = readers[0];
  const stage = plan.stages[s];
  const name = `"${stage.name}"`;
  if (stage.fused) return { way: 'cut', why: `stage ${name} is fused with others (a fused group's members flush in turn)` };
  if (!combines[s]) return { way: 'cut', why: `stage ${name} has flush() but no combine(): its partial results cannot be merged` };
  if (stage.key !== undefined && stage.copies > 1) return { way: 'cut', why: `stage ${name} is keyed over ${stage.copies} copies` };
  return { way: 'partials', stage: s };
}

/** `explain`'s words for a resumable run's state across units (undefined: no stage keeps any). */
export function unitStateWords(plan: GraphLike, cut: UnitCut | undefined, state: UnitState | undefined): string | undefined {
  if (!cut || !state) return undefined;
  if (state.way === 'partials') {
    const name = plan.stages[state.stage].name;
    return `units    stage "${name}" has flush() and combine(): each input file's rows go through a fresh instance of it, its flush() at the file's end (the file's partial) is staged with the unit, and combine() over every file's partials is its output (in a fresh and a resumed run alike); the rows it reads are not staged`;
  }
  const at = cut.at < 0 ? 'the source' : `"${plan.stages[cut.at].name}"`;
  return `units    every row ${at} passes to the stages with flush() is staged with its unit (they run again over them at a resumed run's commit): ${state.why}; give it a combine() to stage its partial results per unit instead`;
}
