/**
 * The text rules inference applied to the first rows, held for every later row. polars parses
 * a typed column leniently: in an integer column `01234` is 1234 and `+5`, ` 7` are 5, 7; in
 * a float column `1e500` is inf and `1.00000000000000001` is 1; a datetime keeps only its
 * column's unit of fraction digits; and a chunk with datetimes written two ways (`T` and a
 * space) is read 1000× off. Inference would have made each of those columns text, so after
 * it they are errors naming file, line and column, never changed values.
 *
 * Written by hand, not with polars: reading the checked columns a second time as text and
 * matching them with polars' regexes cost +60 % of a chunk's parse (65 536 rows of the bench's
 * transactions). A scan walks the chunk's bytes once and gives each checked field a quick look;
 * values it cannot settle (quoted, exponents, many digits, null markers) get the exact rules of
 * csv/infer.ts (strict-judge.ts), so both say the same. Two scans do the walk: WebAssembly
 * (strict-wasm.ts), where it runs, and the JavaScript reference (strict-scan.ts) elsewhere:
 * both give the same answers (test/unit/csv/strict-wasm.test.ts).
 */
import { Judge, isDatetime, type ChunkBytes, type TextCheck, type TextRule } from './strict-judge';
import { scanJs } from './strict-scan';
import { scanWasm } from './strict-wasm';

export { outOfFloatRange, type TextCheck, type TextRule } from './strict-judge';

/** The rules for a file's columns, or undefined where no column needs a check. */
export function textCheck(names: string[], selected: string[], rules: Record<string, TextRule>, inferredFrom: string, nullValues: string[] = []): TextCheck | undefined {
  const at = new Map(names.map((n, i) => [n, i])); // indexOf per column was quadratic in the width
  const fields = selected
    .map((column) => ({ field: at.get(column) ?? -1, column, rule: rules[column] }))
    .filter(({ rule }) => rule !== undefined && checked(rule))
    .sort((a, b) => a.field - b.field);
  return fields.length > 0 ? { fields, inferredFrom, nullValues } : undefined;
}

function checked(rule: TextRule): boolean {
  if (rule.origin === 'declared') return isDatetime(rule.type) || rule.type === 'float32' || rule.type === 'float64';
  return rule.type !== 'utf8' && rule.type !== 'bool'; // polars refuses any bool but true/false itself
}

/**
 * Throws a SourceError for the first checked value in the chunk that breaks its column's rule.
 * `file` names the file in the error; `sep` and `quote` are the file's. `scan`: which walk
 * (`auto`: WebAssembly where it runs; tests ask for each to compare them).
 */
export function checkChunkText(chunk: ChunkBytes, check: TextCheck, file: string, sep: string, quote: string, scan: 'auto' | 'js' | 'wasm' = 'auto'): void {
  const judge = new Judge(check, file, chunk.skippedLines);
  if (scan !== 'js' && scanWasm(chunk, judge, sep, quote)) return;
  if (scan === 'wasm') throw new Error('the WebAssembly text check cannot run here');
  scanJs(chunk, judge, sep, quote);
}
