/**
 * `vector.toArray()` (and `for … of`) on a string column at `ctx.strings` speed, for stage code written the
 * obvious way. apache-arrow decodes a string value at a time through its visitor (~0.5 µs a
 * Utf8 value, ~1 µs a Utf8View one, measured: 1.3 s of a 1 M-row newcomer's stage reading two
 * string columns); batch/strings.ts decodes whole buffers at once. No option of apache-arrow
 * does this, so its `Vector.prototype.toArray` is wrapped: string types (Utf8, LargeUtf8,
 * Utf8View, dictionaries of them) go through `stringsOf`, every other type to the original.
 * The result is the same plain Array (nulls as null; tested value for value against the
 * original), the vector the same apache-arrow Vector. Installed where stage code runs (the
 * stage host, in every mode), once per thread.
 */
import { Vector } from 'apache-arrow';
import { isStringType, stringsOf } from './strings';

const INSTALLED = Symbol.for('sluice.fastStringToArray');
const ITERATOR = Symbol.for('sluice.arrowIterator');

type Patched = typeof Vector.prototype & { [INSTALLED]?: (this: Vector) => unknown };

/** apache-arrow's own `toArray`, kept for tests and for every non-string type. */
export const arrowToArray: (this: Vector) => unknown = (Vector.prototype as Patched)[INSTALLED] ?? Vector.prototype.toArray;

/** apache-arrow's own iterator (`for (const v of vector)`), kept likewise. */
export const arrowIterator: (this: Vector) => IterableIterator<unknown> = (Vector.prototype as Patched & { [ITERATOR]?: (this: Vector) => IterableIterator<unknown> })[ITERATOR] ?? Vector.prototype[Symbol.iterator];

/**
 * Also `for (const value of column)`, which reads every value too. Not `get(i)`: apache-arrow
 * sets it on each vector in its constructor, out of reach of a prototype.
 */
export function installFastStringToArray(): void {
  const proto = Vector.prototype as Patched & { [ITERATOR]?: typeof arrowIterator };
  if (proto[INSTALLED]) return;
  proto[INSTALLED] = arrowToArray;
  proto[ITERATOR] = arrowIterator;
  proto.toArray = function toArray(this: Vector) {
    return isStringType(this.type) ? stringsOf(this) : arrowToArray.call(this);
  } as typeof proto.toArray;
  proto[Symbol.iterator] = function iterate(this: Vector) {
    return isStringType(this.type) ? stringsOf(this)[Symbol.iterator]() : arrowIterator.call(this);
  } as (typeof proto)[typeof Symbol.iterator];
}
