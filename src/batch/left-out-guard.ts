/**
 * Projection pushdown makes a stage's promise (`reads`) load-bearing: a column it reads but did
 * not list is not in its batches. Code that asks for it and copes with its absence
 * (`batch.getChild('x')?.toArray() ?? []`) would then go on with a default and change the
 * output without a word. So, while `process` runs, asking a batch by name for a column the
 * source left out (and the stage would have received without pushdown) throws, naming it.
 * apache-arrow has no hook for this, so `RecordBatch.prototype.getChild` is wrapped (once per
 * thread, where stage code runs); a column that is there, or absent for any other reason,
 * comes back exactly as before, and the stage still gets a real apache-arrow RecordBatch.
 * Positions (`getChildAt`) and row objects are not checked: the README says to ask by name.
 */
import { RecordBatch } from 'apache-arrow';

const LEFT_OUT = Symbol('sluice.leftOut');
const INSTALLED = Symbol.for('sluice.leftOutGuard');

/**
 * Marks this failure: errors cross threads and processes as text, and the run adds no note of
 * its own to an error that says it already (runtime/run.ts).
 */
export const LEFT_OUT_MESSAGE = 'the source did not read it';

type Guarded = RecordBatch & { [LEFT_OUT]?: ReadonlySet<string> };
type Proto = typeof RecordBatch.prototype & { [INSTALLED]?: true };


export function installLeftOutGuard(): void {
  const proto = RecordBatch.prototype as Proto;
  if (proto[INSTALLED]) return;
  proto[INSTALLED] = true;
  const original = proto.getChild;
  proto.getChild = function getChild(this: Guarded, name) {
    const child = original.call(this, name);
    if (child == null && this[LEFT_OUT]?.has(name as string)) {
      throw new Error(
        `column "${String(name)}" is not in the batch: ${LEFT_OUT_MESSAGE}, as no stage lists it in its reads() and the sink does not get it (projection pushdown); list it in this stage's reads(options)`,
      );
    }
    return child;
  } as typeof proto.getChild;
}

/** Run `work` (a stage's `process` on `batch`) with `batch` asking for `leftOut` by name failing. */
export async function withLeftOut<T>(batch: RecordBatch, leftOut: ReadonlySet<string> | undefined, work: () => T | Promise<T>): Promise<T> {
  if (!leftOut?.size) return work();
  const guarded = batch as Guarded;
  const before = guarded[LEFT_OUT];
  guarded[LEFT_OUT] = leftOut;
  try {
    return await work();
  } finally {
    // Back as it was: the engine (and a later stage, with its own set) reads it after.
    guarded[LEFT_OUT] = before;
  }
}
