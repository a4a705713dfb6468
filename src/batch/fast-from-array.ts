/**
 * `tableFromArrays({ name: strings })` and `vectorFromArray(strings)` at `ctx.table` speed, for
 * stage code written the obvious way. For an array of strings apache-arrow infers
 * Dictionary<Int32, Utf8> and fills it a value at a time: an object lookup per value and
 * a TextEncoder call and a fresh Uint8Array per new one (measured: 113-169 ms for 65,536
 * distinct 64-character hashes, 1.9 s per million rows, with the garbage collection after
 * it). This builds the same vector (same type, the dictionary in first-seen order, Int32
 * indices, nulls in the validity bitmap, memoized as apache-arrow memoizes dictionaries) with
 * a Map and one encoding of all the distinct values (28 ms). No option of apache-arrow does
 * this: its `tableFromArrays` calls `vectorFromArray` through its CommonJS module object,
 * which is where it is wrapped. Anything but a plain array of strings and nulls, or a type
 * given explicitly, goes to the original; an ES-module stage gets apache-arrow's ESM build,
 * whose bindings cannot be wrapped, and runs as before.
 */
import { createRequire } from 'node:module';
import { constants } from 'node:buffer';
import type * as Arrow from 'apache-arrow';
import { utf8Parts } from './strings';

type ArrowModule = Pick<typeof Arrow, 'Dictionary' | 'Int32' | 'Utf8' | 'makeData' | 'makeVector'>;
type VectorFromArray = (init: unknown, type?: unknown) => unknown;
interface Factories {
  vectorFromArray: VectorFromArray & { [ORIGINAL]?: VectorFromArray };
}

const ORIGINAL = Symbol.for('sluice.arrowVectorFromArray');

/**
 * Dictionary<Int32, Utf8> of `values` built with `arrow`'s own classes, or undefined when
 * they are not all strings and nulls with at least one string (what apache-arrow infers a
 * dictionary of strings for; `undefined` it would count as null for the type but not for the
 * values, so that case stays with apache-arrow), or when the distinct values hold more
 * characters than `maxChars`: they are encoded joined, and V8's longest string is the bound.
 */
export function stringDictionary(
  arrow: ArrowModule,
  values: readonly unknown[],
  maxChars: number = constants.MAX_STRING_LENGTH,
): Arrow.Vector<Arrow.Dictionary<Arrow.Utf8, Arrow.Int32>> | undefined {
  const n = values.length;
  const indices = new Int32Array(n);
  const ids = new Map<string, number>();
  const distinct: string[] = [];
  let nulls = 0;
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'string') {
      if (v !== null) return undefined;
      nulls++;
      continue; // index 0, as apache-arrow's builder leaves it
    }
    let id = ids.get(v);
    if (id === undefined) {
      id = distinct.length;
      ids.set(v, id);
      distinct.push(v);
      if ((chars += v.length) > maxChars) return undefined;
    }
    indices[i] = id;
  }
  if (distinct.length === 0) return undefined; // all null: apache-arrow infers Float64
  let validity: Uint8Array | undefined;
  if (nulls) {
    validity = new Uint8Array(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) if (values[i] !== null) validity[i >> 3] |= 1 << (i & 7);
  }
  const dictionary = arrow.makeVector(arrow.makeData({ type: new arrow.Utf8(), length: distinct.length, ...utf8Parts(distinct) }));
  const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  return arrow.makeVector(arrow.makeData({ type, length: n, nullCount: nulls, nullBitmap: validity, data: indices, dictionary })).memoize();
}

/** Wrap `vectorFromArray` of the apache-arrow that `from` (a file) resolves, once per copy of it. */
function wrap(from: string): void {
  let factories: Factories;
  let arrow: ArrowModule;
  try {
    const load = createRequire(from);
    factories = load('apache-arrow/factories') as Factories;
    arrow = load('apache-arrow') as ArrowModule;
  } catch {
    return; // no apache-arrow there (the stage does not use it), or one without that layout
  }
  const original = factories.vectorFromArray;
  if (typeof original !== 'function' || original[ORIGINAL]) return;
  const fast = function vectorFromArray(init: unknown, type?: unknown): unknown {
    if (type === undefined && Array.isArray(init) && init.length > 0) return stringDictionary(arrow, init) ?? original(init);
    return original(init, type);
  };
  try {
    factories.vectorFromArray = Object.assign(fast, { [ORIGINAL]: original });
  } catch {
    // a build whose export is read-only: it keeps its own builder
  }
}

/** Wrap sluice's own apache-arrow and the one the stage module at `modulePath` imports. */
export function installFastVectorFromArray(modulePath?: string): void {
  wrap(__filename);
  if (modulePath) wrap(modulePath);
}

/** apache-arrow's own `vectorFromArray` (tests compare against it). */
export function originalVectorFromArray(): VectorFromArray {
  const factories = createRequire(__filename)('apache-arrow/factories') as Factories;
  return factories.vectorFromArray[ORIGINAL] ?? factories.vectorFromArray;
}
