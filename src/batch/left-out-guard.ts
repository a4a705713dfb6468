/**
 * Projection pushdown makes a stage's promise (`reads`) load-bearing: a column it reads but did
 * not list is not in its batches. A stage could then go on without it and change the output
 * without a word, in two ways, and while `process` runs this module closes both:
 *
 * - It asks for the column by name and copes with its absence (`getChild('x')?.toArray() ?? []`,
 *   `row.x ?? 0`, `select(['x'])`): asking for a left-out column by name throws, naming it.
 * - It learns which columns there are (a `schema.fields` loop, `numCols`, `getChildAt(i)`, a
 *   row's keys or `toJSON()`, `new Table(batch)`, an IPC writer, a DataFrame) and reads them
 *   all: it would sum, hash or copy fewer columns. Every such way goes through the batch's
 *   `schema` or `data` (or a row's parent data), so on the batch those two are accessors for
 *   the time `process` runs, and any code but apache-arrow's own RecordBatch methods and
 *   sluice's helpers that reads them fails, naming the columns left out and what to do. A
 *   stage that only passes the columns it did not list on (or drops them) says so
 *   (`passesOnUnlisted: true`), and then may enumerate; asking by name stays guarded.
 *
 * apache-arrow has no hook for this: RecordBatch's methods and getters are wrapped once per
 * thread where stage code runs (they mark their own reads as apache-arrow's), and a guarded
 * batch's rows are made over a stand-in of its data whose field list answers a search by name
 * (what a row's Proxy does for `row.x`) but refuses to be listed. The stage still gets a real
 * apache-arrow RecordBatch; once `process` returns, the batch is as it was.
 */
import { RecordBatch, Table, type Data, type Field } from 'apache-arrow';
import { materialise, stillAFrame, whenReal } from './frame-handoff';

/**
 * Marks these failures: errors cross threads and processes as text, and the run adds no note of
 * its own to an error that says it already (runtime/run.ts).
 */
export const LEFT_OUT_MESSAGE = 'the source did not read it';
export const ENUMERATED_MESSAGE = 'projection pushdown left out';

interface Gate {
  leftOut: ReadonlySet<string>;
  /** Enumerating the columns fails (the stage did not declare `passesOnUnlisted`). */
  strict: boolean;
  /** While the stage's `process` runs; after, every accessor gives the real value. */
  active: boolean;
}

const GATE = Symbol('sluice.leftOutGate');
const INSTALLED = Symbol.for('sluice.leftOutGuard');

type Guarded = RecordBatch & { [GATE]?: Gate };

/** Depth of apache-arrow's RecordBatch methods and sluice's helpers on the stack (they read `schema`/`data` on the stage's behalf). */
let inside = 0;
/** Depth of the methods that make rows (their parent is the batch's `data`: the stand-in, see standIn). */
let makingRows = 0;
const ROWS = new Set(['get', 'at', 'toArray', 'indexOf', 'set', 'Symbol(Symbol.iterator)']);

/** Run sluice's own code on the stage's behalf (ctx helpers): the batch's `schema` and `data` read as usual. */
export function onStagesBehalf<T>(work: () => T): T {
  inside++;
  try {
    return work();
  } finally {
    inside--;
  }
}

function leftOutError(name: string): Error {
  return new Error(
    `column "${name}" is not in the batch: ${LEFT_OUT_MESSAGE}, as no stage lists it in its reads() and the sink does not get it (projection pushdown); list it in this stage's reads(options)`,
  );
}

function enumeratedError(gate: Gate, how: string): Error {
  const columns = [...gate.leftOut].join(', ');
  return new Error(
    `it learned which columns its batch has (${how}) while ${ENUMERATED_MESSAGE} ${columns} (no stage lists them in its reads() and the sink does not get them), so code that reads every column would read fewer and change the output. ` +
      `If the stage reads one of them, list it in its reads(options) (or make reads return undefined: nothing before it is left out); ` +
      `if it reads only the columns it lists and passes the others on untouched or drops them, declare passesOnUnlisted: true in its defineStage`,
  );
}

/** The gate of a batch while its stage's `process` runs. */
function activeGate(batch: unknown): Gate | undefined {
  const gate = (batch as Guarded | null)?.[GATE];
  return gate?.active ? gate : undefined;
}

/**
 * Throws when stage code (not apache-arrow's, not sluice's) would learn the columns of `batch`
 * while its stage is strict about it. `how` names the way, for the message.
 */
export function refuseEnumeration(batch: unknown, how: string): void {
  const gate = activeGate(batch);
  if (gate?.strict) throw enumeratedError(gate, how);
}

// RecordBatch members by what they give away. By name: checked against the left-out names.
// Positions, counts, dictionaries and a Table of the batch's schema: the column list itself.
const BY_NAME = new Set(['getChild', 'setChild', 'select']);
const ENUMERATING = new Set(['numCols', 'getChildAt', 'setChildAt', 'selectAt', 'dictionaries', 'concat']);

/** Wrap RecordBatch's members (once per thread) so they read `schema`/`data` as apache-arrow, and check what a stage asks. */
export function installLeftOutGuard(): void {
  const proto = RecordBatch.prototype as typeof RecordBatch.prototype & { [INSTALLED]?: true };
  if (proto[INSTALLED]) return;
  proto[INSTALLED] = true;
  for (const key of Reflect.ownKeys(proto)) {
    if (key === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
    const name = String(key);
    if (descriptor.get) {
      const original = descriptor.get;
      Object.defineProperty(proto, key, { ...descriptor, get: wrap(name, original) });
    } else if (typeof descriptor.value === 'function') {
      Object.defineProperty(proto, key, { ...descriptor, value: wrap(name, descriptor.value as (...args: unknown[]) => unknown) });
    }
  }
  // A Table made of guarded batches (in a stage that declared passesOnUnlisted) asks them by name too.
  for (const key of ['getChild', 'select'] as const) {
    const original = Table.prototype[key] as (this: Table, arg: unknown) => unknown;
    (Table.prototype as unknown as Record<string, unknown>)[key] = function (this: Table, arg: unknown) {
      for (const batch of this.batches) checkNames(activeGate(batch), key === 'select' ? (arg as string[]) : [arg as string], (n) => this.schema.fields.some((f) => f.name === n));
      return original.call(this, arg);
    };
  }
}

function checkNames(gate: Gate | undefined, names: readonly unknown[], present: (name: string) => boolean): void {
  if (!gate) return;
  for (const name of names) if (typeof name === 'string' && gate.leftOut.has(name) && !present(name)) throw leftOutError(name);
}

function wrap(name: string, original: (this: RecordBatch, ...args: unknown[]) => unknown) {
  const iterates = name === 'Symbol(Symbol.iterator)';
  return function guarded(this: Guarded, ...args: unknown[]): unknown {
    const gate = activeGate(this);
    if (!gate) return original.apply(this, args);
    if (inside === 0 && gate.strict && ENUMERATING.has(name)) throw enumeratedError(gate, `batch.${name}`);
    // By name from anywhere (ctx.strings asks on the stage's behalf).
    if (BY_NAME.has(name)) {
      const names = name === 'select' ? (Array.isArray(args[0]) ? (args[0] as unknown[]) : []) : [args[0]];
      checkNames(gate, names, (n) => onStagesBehalf(() => this.schema.fields.some((f) => f.name === n)));
    }
    const rows = ROWS.has(name);
    if (rows) makingRows++;
    let result: unknown;
    try {
      result = onStagesBehalf(() => original.apply(this, args));
    } finally {
      if (rows) makingRows--;
    }
    // A batch made from this one (slice, setChild …) is guarded the same way for as long.
    if (RecordBatch.isRecordBatch(result) && result !== this) guard(result as Guarded, gate);
    // Rows are made as the iterator is read, after this call: read it as apache-arrow too.
    if (iterates) {
      const it = result as Iterator<unknown>;
      return { next: () => onStagesBehalf(() => it.next()), [Symbol.iterator]() { return this; } };
    }
    return result;
  };
}

/**
 * A stand-in for the batch's data for the rows made from it (their parent): its field list
 * can be searched by name, as a row's Proxy does for `row.x` (a left-out name throws), and its
 * columns reached by position, as the Proxy does next; listed (a row's keys, `toJSON()`, a spread)
 * it fails when the gate is strict. apache-arrow's own code reads the real ones.
 */
function standIn(data: Data, gate: Gate): Data {
  const fields = data.type.children as Field[];
  const search = (method: 'some' | 'findIndex' | 'find') => (predicate: (f: Field, i: number, all: Field[]) => unknown) => {
    const found = (fields[method] as (p: typeof predicate) => unknown)(predicate);
    if (found !== -1 && found !== false && found !== undefined) return found;
    for (const left of gate.leftOut) if (predicate({ name: left } as Field, -1, fields)) throw leftOutError(left);
    return found;
  };
  const listing = (what: string) =>
    new Proxy(fields, {
      get(target, key) {
        if (key === 'some' || key === 'findIndex' || key === 'find') return search(key);
        if (gate.strict && !(what === 'children' && typeof key === 'string' && /^\d+$/.test(key))) throw enumeratedError(gate, "a row's keys or values");
        return Reflect.get(target, key) as unknown;
      },
    });
  const typeStandIn = Object.create(data.type, { children: { get: () => (gate.active && inside === 0 ? listing('fields') : fields) } }) as Data['type'];
  const children = data.children;
  const childList = new Proxy(children, {
    get(target, key) {
      if (gate.active && inside === 0 && gate.strict && !(typeof key === 'string' && /^\d+$/.test(key))) throw enumeratedError(gate, "a row's keys or values");
      return Reflect.get(target, key) as unknown;
    },
  });
  return Object.create(data, {
    type: { get: () => (gate.active && inside === 0 ? typeStandIn : data.type) },
    children: { get: () => (gate.active && inside === 0 ? childList : children) },
  }) as Data;
}

/** Make `schema` and `data` of `batch` accessors that follow `gate` (see the top of this file). */
function guard(batch: Guarded, gate: Gate): void {
  const { schema, data } = batch; // the real ones: an older, inactive gate gives them as they are
  let rows: Data | undefined; // made when first asked for: most stages never read `data`
  batch[GATE] = gate;
  Object.defineProperty(batch, 'schema', {
    configurable: true,
    enumerable: true,
    get: () => {
      if (gate.active && inside === 0 && gate.strict) throw enumeratedError(gate, 'batch.schema, or a function given the batch: new Table(batch), an IPC writer, JSON.stringify');
      return schema;
    },
  });
  Object.defineProperty(batch, 'data', {
    configurable: true,
    enumerable: true,
    get: () => {
      if (!gate.active || (inside > 0 && makingRows === 0)) return data;
      if (inside === 0 && gate.strict) throw enumeratedError(gate, 'batch.data');
      return (rows ??= standIn(data, gate));
    },
  });
}

/**
 * A stand-in for a polars frame (batch/frame-handoff.ts) guarded without converting it: its
 * frame has only the columns the source read, so a stage that takes it by `ctx.toDataFrame`
 * (checked there: refuseEnumeration) reads nothing left out. The first read of its `schema` or
 * `data`, by anyone, makes it the real batch, which is then guarded as any batch is; until then
 * the gate is on it (activeGate), so every check by name or of enumeration applies the same.
 */
function guardFrame(batch: Guarded, gate: Gate): () => void {
  // A schema known beforehand (a source's stand-in) is given without converting the rows, as unguarded.
  const own = Object.getOwnPropertyDescriptor(batch, 'schema');
  const known = own && 'value' in own ? (own.value as RecordBatch['schema']) : undefined;
  batch[GATE] = gate;
  const stop = whenReal(batch, () => {
    if (gate.active) guard(batch, gate);
  });
  for (const key of ['schema', 'data'] as const) {
    Object.defineProperty(batch, key, {
      configurable: true,
      enumerable: true,
      get: () => {
        // Stage code listing the columns of a strict stage fails as it would on the real batch, without converting it first.
        if (gate.active && inside === 0 && gate.strict) throw enumeratedError(gate, key === 'schema' ? 'batch.schema, or a function given the batch: new Table(batch), an IPC writer, JSON.stringify' : 'batch.data');
        if (key === 'schema' && known) return known;
        materialise(batch); // replaces this accessor: the real batch, guarded (the listener above)
        return batch[key];
      },
    });
  }
  return stop;
}

/**
 * Run `work` (a stage's `process` on `batch`) with `leftOut` guarded: asking for one by name
 * fails; when `strict` (the stage did not declare `passesOnUnlisted`), so does learning the
 * column list.
 */
export async function withLeftOut<T>(batch: RecordBatch, leftOut: ReadonlySet<string> | undefined, strict: boolean, work: () => T | Promise<T>): Promise<T> {
  if (!leftOut?.size) return work();
  const target = batch as Guarded;
  const gate: Gate = { leftOut, strict, active: true };
  // A stand-in keeps its own accessors (they make it real when read), to be put back if it stays a frame.
  const frame = stillAFrame(target) ? { schema: Object.getOwnPropertyDescriptor(target, 'schema'), data: Object.getOwnPropertyDescriptor(target, 'data') } : undefined;
  const before = { gate: target[GATE], schema: frame ? undefined : target.schema, data: frame ? undefined : target.data };
  const stop = frame ? guardFrame(target, gate) : undefined;
  if (!frame) guard(target, gate);
  try {
    return await work();
  } finally {
    // Back as it was: the engine (and a later stage, with its own gate) reads it after.
    gate.active = false;
    stop?.();
    target[GATE] = before.gate;
    if (frame && stillAFrame(target)) {
      for (const key of ['schema', 'data'] as const) {
        const descriptor = frame[key];
        if (descriptor) Object.defineProperty(target, key, descriptor);
        else delete (target as unknown as Record<string, unknown>)[key];
      }
    } else {
      // A stand-in made real while `process` ran: its real values, through the now inactive gate.
      const schema = frame ? target.schema : before.schema;
      const data = frame ? target.data : before.data;
      Object.defineProperty(target, 'schema', { value: schema, writable: true, enumerable: true, configurable: true });
      Object.defineProperty(target, 'data', { value: data, writable: true, enumerable: true, configurable: true });
    }
  }
}
