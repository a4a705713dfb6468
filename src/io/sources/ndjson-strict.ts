/**
 * NDJSON values held to their column's type exactly, or refused with the line. polars parses a
 * batch with one type per column and converts what does not match without a word: a number in
 * a text column becomes its reformatted text (`1.50` → "1.5", `1e3` → "1000"), an integer beyond
 * 2^53 in a float column is rounded, and a cast to the first batch's types would make `2.5` 2
 * and `true` 1. The rule, as for CSV after its inference window (csv/strict.ts): a value is kept
 * only if the type inferred from the first batch holds it as that batch would have judged it.
 *
 * Cheap first: per batch, the types polars inferred are compared with the fixed ones, and one
 * polars select counts values that may have been converted (text that looks like a number,
 * true/false, an object or array; a float or integer beyond 2^53). Only when one might have
 * been does this parse the batch's lines itself (ndjson-raw.ts) to find the value and its line.
 */
import type pl from 'nodejs-polars';
import type { DataType, Expr } from 'nodejs-polars';
import { polars } from '../../batch/lazy-polars';
import { SourceError } from '../../errors';
import { surelyStrings } from './ndjson-keys';
import { wholeBatch } from './ndjson-salvage';
import { firstConflict, firstLoose, firstMisfit, fromText, misfitError, typeName, type Lines, type NdjsonTypes } from './ndjson-locate';
import type { Shape } from './ndjson-schema';

export type { Lines, NdjsonTypes } from './ndjson-locate';

/** polars' text for a number, true/false, an object or an array it put in a text column. */
const CONVERTED_TEXT = /^(-?\d|true$|false$|[\{\[])/;

const shape = (t: DataType) => t as unknown as Shape;

/** `got` (a batch's inferred type) holds only what `fixed` holds, or what reading would convert exactly. */
function fitsType(fixed: DataType, got: DataType): boolean {
  const f = shape(fixed);
  const g = shape(got);
  if (g.variant === 'Null') return true;
  if (f.variant === 'Float64' && g.variant === 'Int64') return true; // checked value by value (2^53)
  if (f.variant !== g.variant) return false;
  if (f.variant === 'List') return fitsType(f.__inner!, g.__inner!);
  if (f.variant === 'Struct') return (g.fields ?? []).every((gf) => (f.fields ?? []).some((ff) => ff.name === gf.name && fitsType(ff.dtype, gf.dtype)));
  return true;
}

/** Expressions counting values of `expr` (of type `got`, held to `fixed`) that may have been converted. */
function suspects(expr: Expr, fixed: DataType, got: DataType): Expr[] {
  const f = shape(fixed);
  const g = shape(got);
  if (g.variant === 'Null') return [];
  if (f.variant === 'Float64' && (g.variant === 'Float64' || g.variant === 'Int64')) return [expr.abs().gt(2 ** 53 - 1)];
  if (g.variant === 'String') return [expr.str.contains(CONVERTED_TEXT)];
  if (f.variant === 'List' && g.variant === 'List') return suspects(expr.explode(), f.__inner!, g.__inner!);
  if (f.variant === 'Struct' && g.variant === 'Struct') {
    return (g.fields ?? []).flatMap((gf) => {
      const ff = f.fields?.find((k) => k.name === gf.name);
      return ff ? suspects(expr.struct.field(gf.name), ff.dtype, gf.dtype) : [];
    });
  }
  return [];
}

/**
 * Throws for the first value of the parsed batch that its column's type does not hold exactly:
 * `fixed` are the source's types (undefined: this is the batch that fixes them, held to its own).
 */
export function checkBatch(df: pl.DataFrame, lines: Lines, file: string, fixed: NdjsonTypes | undefined): void {
  const candidates: { name: string; type: DataType; exprs: number[]; differs: boolean }[] = [];
  const exprs: Expr[] = [];
  // columns and dtypes are native calls that list every column: once, not per column.
  const names = df.columns;
  const dtypes = df.dtypes;
  names.forEach((name, i) => {
    const got = dtypes[i];
    const type = fixed?.types[name] ?? got;
    if (!fitsType(type, got)) return void candidates.push({ name, type, exprs: [], differs: true });
    const own = suspects(polars().col(name), type, got).map((e) => exprs.push(e.cast(polars().UInt32).sum().alias(`s${exprs.length}`)) - 1);
    if (own.length > 0) candidates.push({ name, type, exprs: own, differs: false });
  });
  const counts = exprs.length > 0 ? (df.select(...exprs).row(0) as unknown[]) : [];
  const columns = candidates.filter((c) => c.differs || (c.exprs.some((k) => Number(counts[k]) > 0) && !stringsAsWritten(df, c.name, lines.bytes)));
  if (hasSurrogateEscape(lines.bytes)) {
    const loose = firstLoose(lines, new Set(names));
    if (loose) throw loose(file);
  }
  if (columns.length === 0) return;
  const range = `lines ${lines.firstLine}–${lines.firstLine + lines.count - 1}`;
  // In the batch that fixes the types, polars made one type of several kinds: name the value that disagrees.
  const conflict = fixed ? undefined : firstConflict(lines, new Set(columns.map((c) => c.name)));
  if (conflict) throw conflict(file);
  const found = firstMisfit(lines, columns);
  if (found) throw misfitError(found, file, fixed ?? { types: {}, file, lines: range });
  // A type that differs with no value found to blame (not expected): refuse the batch whole.
  const bad = columns.find((c) => c.differs);
  if (bad) {
    const whole = new SourceError(`values of ${range} do not fit the type ${typeName(bad.type)} ${fromText(fixed!, file)}`, { file, line: lines.firstLine, column: bad.name });
    wholeBatch.add(whole); // names no line of its own: onError cannot take one line out for it
    throw whole;
  }
}

/** A text column whose every value the bytes show written as a string (digits, "true" and all). */
function stringsAsWritten(df: pl.DataFrame, name: string, bytes: Buffer): boolean {
  const column = df.getColumn(name);
  return shape(column.dtype).variant === 'String' && surelyStrings(bytes, name, column.len() - column.nullCount());
}

/**
 * A `\ud800`–`\udfff` escape may be a lone surrogate, which polars reads as U+0000 at the end of
 * a string (`"x\ud800"`) and refuses elsewhere: one search of the bytes decides whether to look.
 */
function hasSurrogateEscape(bytes: Buffer): boolean {
  return bytes.indexOf('\\ud') >= 0 || bytes.indexOf('\\uD') >= 0;
}
