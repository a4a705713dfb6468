/**
 * Projection pushdown makes a stage's promise (`reads`) load-bearing: a column it reads but did
 * not list is not in its batches. Code that asks for it and copes with its absence
 * (`batch.getChild('x')?.toArray() ?? []`) would then go on with a default and change the
 * output without a word. So, while `process` runs, asking a batch by name for a column the
 * source left out (and the stage would have received without pushdown) throws, naming it.
 * apache-arrow has no hook for this, so `RecordBatch.prototype.getChild` is wrapped (once per
 * thread, where stage code runs); a column that is there, or absent for any other reason,
 * comes back exactly as before, and the stage still gets a real apache-arrow RecordBatch.
 * Row objects (`batch.get(i)`, `for (const row of batch)`, `batch.toArray()`) are checked the same
 * way: `row.x` for such a column throws. Positions (`getChildAt`) and copies a row makes of
 * itself (`row.toJSON()`, `{ ...row }`) are not: the README says to ask by name.
 */
import { makeVector, RecordBatch, StructRow, type Data, type Vector } from 'apache-arrow';

const LEFT_OUT = Symbol('sluice.leftOut');
const INSTALLED = Symbol.for('sluice.leftOutGuard');

/**
 * Marks this failure: errors cross threads and processes as text, and the run adds no note of
 * its own to an error that says it already (runtime/run.ts).
 */
export const LEFT_OUT_MESSAGE = 'the source did not read it';

type Guarded = RecordBatch & { [LEFT_OUT]?: ReadonlySet<string> };
type Proto = typeof RecordBatch.prototype & { [INSTALLED]?: true };

function leftOutError(name: string): Error {
  return new Error(
    `column "${name}" is not in the batch: ${LEFT_OUT_MESSAGE}, as no stage lists it in its reads() and the sink does not get it (projection pushdown); list it in this stage's reads(options)`,
  );
}

export function installLeftOutGuard(): void {
  const proto = RecordBatch.prototype as Proto;
  if (proto[INSTALLED]) return;
  proto[INSTALLED] = true;
  const original = proto.getChild;
  proto.getChild = function getChild(this: Guarded, name) {
    const child = original.call(this, name);
    if (child == null && this[LEFT_OUT]?.has(name as string)) throw leftOutError(String(name));
    return child;
  } as typeof proto.getChild;
}

// apache-arrow's row: a Proxy over a StructRow whose `get` trap answers a name found on the row
// or its prototype before the row's columns (row/struct.js); its parent Data and index sit
// under these registered symbols.
const kParent = Symbol.for('parent');
const kRowIndex = Symbol.for('rowIndex');
const ROW_NAMES = Symbol.for('sluice.leftOutRowNames');

type Row = { [kParent]: Data & { [LEFT_OUT]?: ReadonlySet<string> }; [kRowIndex]: number };
type RowProto = typeof StructRow.prototype & { [ROW_NAMES]?: Set<string> };

/** One Vector per column Data a guarded name was read from, so a row reads it without a new Vector each time. */
const columnsRead = new WeakMap<Data, Vector>();

/**
 * Make `row.<name>` on an apache-arrow row fail the same way for these names when the row's
 * batch has them left out. The Proxy's trap cannot be reached, but it asks the prototype first,
 * so an accessor per name there decides: the column's value when the row has it (what the
 * trap would give), the left-out error when its batch is guarded for it, else undefined, as
 * before. Names the prototype already has (toJSON, toString …) stay apache-arrow's.
 */
export function guardRowNames(names: Iterable<string>): void {
  const proto = StructRow.prototype as RowProto;
  const installed = (proto[ROW_NAMES] ??= new Set());
  for (const name of names) {
    if (installed.has(name) || Reflect.has(proto, name)) continue;
    installed.add(name);
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: false,
      get(this: Row) {
        const parent = this[kParent];
        if (parent == null) return undefined; // the prototype itself
        const index = parent.type.children.findIndex((f: { name: string }) => f.name === name);
        if (index !== -1) {
          const data = parent.children[index];
          let column = columnsRead.get(data);
          if (!column) columnsRead.set(data, (column = makeVector(data)));
          return column.get(this[kRowIndex]);
        }
        if (parent[LEFT_OUT]?.has(name)) throw leftOutError(name);
        return undefined;
      },
      set(this: Row, value: unknown) {
        // After the trap wrote a present column's value: cache it on the row, as the trap does.
        // A column the row lacks stays unwritable, as the trap has it (false: a TypeError in strict code).
        if (!this[kParent]?.type.children.some((f: { name: string }) => f.name === name)) throw new TypeError(`cannot set "${name}" on a row: its batch has no such column`);
        Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
      },
    });
  }
}

/** Run `work` (a stage's `process` on `batch`) with `batch` asking for `leftOut` by name failing. */
export async function withLeftOut<T>(batch: RecordBatch, leftOut: ReadonlySet<string> | undefined, work: () => T | Promise<T>): Promise<T> {
  if (!leftOut?.size) return work();
  // The batch for getChild, its Data for the rows made from it (their parent).
  const guarded = [batch as Guarded, batch.data as Data & { [LEFT_OUT]?: ReadonlySet<string> }];
  const before = guarded.map((g) => g[LEFT_OUT]);
  for (const g of guarded) g[LEFT_OUT] = leftOut;
  try {
    return await work();
  } finally {
    // Back as it was: the engine (and a later stage, with its own set) reads it after.
    guarded.forEach((g, i) => (g[LEFT_OUT] = before[i]));
  }
}
