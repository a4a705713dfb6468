/**
 * The one shape every error takes to cross a boundary (a stage thread, a stage's child
 * process, the source thread, a Parquet encoder thread). Plain data and JSON-safe, so a
 * process frame header carries it as well as postMessage does. errors.ts `serialize` makes
 * it and `deserialize` rebuilds the same class from it, every field included.
 */

/** Plain data: what JSON and structured clone both carry unchanged. */
export type WireValue = string | number | boolean | null | WireValue[] | { [key: string]: WireValue };

export interface WireError {
  /** The class to rebuild: a SluiceError class's name, a built-in (`TypeError`, …), or `Error`. */
  class: string;
  /** The error's own name (a subclass the other side does not know keeps it here). */
  name: string;
  message: string;
  stack?: string;
  /** The error's own fields: `code`, `phase`, `location` (stage, copy, seq, sourceFile), `file`, `line`, `column`, `exitCode`, … */
  fields: Record<string, WireValue>;
  /** What it wraps (a value that was not an Error arrives as an Error describing it). */
  cause?: WireError;
}
