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
 * transactions); this walks the chunk's bytes once and looks at each checked field's bytes
 * with a few comparisons. Values the quick look cannot settle (quoted, exponents, many digits,
 * null markers) get the exact rules of csv/infer.ts, so both say the same.
 */
import { SourceError } from '../errors';
import { physicalLine } from './blank-lines';
import { datetimeShape, fits, isStrictValue, NON_FINITE, type CsvType } from './infer';

/** How one column's text is held to its type. */
export interface TextRule {
  type: CsvType;
  /**
   * `inferred`: the rules inference applied (csv/infer.ts), and a datetime is written the way
   * the first rows wrote it (`shape`). `declared`: a `schema` type, parsed as polars parses it,
   * except that a datetime is written one way within a chunk (polars reads a second way wrong).
   */
  origin: 'inferred' | 'declared';
  /** Inferred datetimes: the text's shape in the first rows (digits as `9`, any offset as `Z`). */
  shape?: string;
  /** Inferred floats: the first rows held `NaN` or an infinity, so later rows may too. */
  nonFinite?: boolean;
}

/** What every chunk of a file is checked against (plain data: it crosses to threads). */
export interface TextCheck {
  /** Checked columns by their field index in the file's rows. */
  fields: { field: number; column: string; rule: TextRule }[];
  /** Where inferred types came from, for the error: "the first 10000 rows of a.csv (lines 2–10001)". */
  inferredFrom: string;
  /** polars' null markers besides the empty field. */
  nullValues: string[];
}

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
  if (rule.origin === 'declared') return isDatetime(rule.type) || isFloat(rule.type);
  return rule.type !== 'utf8' && rule.type !== 'bool'; // polars refuses any bool but true/false itself
}

function isFloat(type: CsvType): boolean {
  return type === 'float32' || type === 'float64';
}

/** The largest finite value of a declared float type, past which polars reads `inf`. */
const FLOAT_MAX = { float32: 3.4028234663852886e38, float64: Number.MAX_VALUE };

/**
 * A finite number written as text that the type would read as an infinity or as zero
 * (`1e500`, `1e-400`; float32 from 3.5e38 and below 1.4e-45): a changed value, even in a
 * column the config declared.
 */
export function outOfFloatRange(type: 'float32' | 'float64', value: string): boolean {
  const n = Number(value.trim());
  if (Number.isNaN(n) || /inf/i.test(value)) return false;
  const magnitude = Math.abs(type === 'float32' ? Math.fround(n) : n);
  if (!Number.isFinite(n) || magnitude > FLOAT_MAX[type]) return true;
  return magnitude === 0 && /[1-9]/.test(value.replace(/[eE].*$/, ''));
}

function isDatetime(type: CsvType): boolean {
  return type === 'timestamp' || type.startsWith('datetime');
}

/** What a chunk's text looks like to the scan (the part of csv/parse.ts's ChunkText it reads). */
interface ChunkBytes {
  text: Buffer;
  prefixLength: number;
  firstLine: number;
  skippedLines?: number[];
}

const LF = 10;
const CR = 13;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;

/** Kinds the quick look tells apart, per checked field (an index into `fields`). */
const enum Quick {
  Int,
  Float,
  Shape,
  Other,
}

/**
 * Throws a SourceError for the first checked value in the chunk that breaks its column's rule.
 * `file` names the file in the error; `sep` and `quote` are the file's.
 */
export function checkChunkText(chunk: ChunkBytes, check: TextCheck, file: string, sep: string, quote: string): void {
  const text = chunk.text;
  const n = text.length;
  const delimiter = sep.charCodeAt(0);
  const q = quote.charCodeAt(0);
  const last = check.fields[check.fields.length - 1].field;
  const byField: number[] = new Array<number>(last + 1).fill(-1);
  check.fields.forEach((f, k) => (byField[f.field] = k));
  const quick = check.fields.map(({ rule }) => quickKind(rule));
  // Shapes as bytes for the quick look; a declared column's is its first value's in the chunk.
  const shapes: (Shape | undefined)[] = check.fields.map(({ rule }) => (rule.shape !== undefined ? compileShape(rule.shape, rule.type.includes('ns')) : undefined));
  const chunkShapes: (string | undefined)[] = check.fields.map(() => undefined);

  const fail = (k: number, value: string, line: number): never => {
    throw violation(check, k, value, { file, line: physicalLine(line, chunk.skippedLines), chunkShape: chunkShapes[k] });
  };
  /** The exact rules, for what the quick look cannot settle. */
  const slow = (k: number, value: string, line: number): void => {
    if (value === '' || check.nullValues.includes(value)) return;
    const { rule } = check.fields[k];
    if (rule.origin === 'inferred') {
      if (!isStrictValue(rule.type, value, rule.shape)) fail(k, value, line);
        if (rule.type === 'float64' && !rule.nonFinite && NON_FINITE.test(value)) fail(k, value, line);
      return;
    }
    if (isFloat(rule.type)) {
      // declared float: polars' text forms, but never a finite value read as inf or 0
      if (fits(rule.type, value.trim()) && outOfFloatRange(rule.type as 'float32' | 'float64', value)) fail(k, value, line);
      return;
    }
    // declared datetime: what polars parses, written one way in the chunk
    if (!fits(rule.type, value)) fail(k, value, line);
    const shape = datetimeShape(value);
    if (chunkShapes[k] === undefined) {
      chunkShapes[k] = shape;
      shapes[k] = compileShape(shape);
      quick[k] = Quick.Shape;
    } else if (chunkShapes[k] !== shape) fail(k, value, line);
  };

  let line = chunk.firstLine;
  let field = 0;
  let nextQuote = -1; // cached position of the next quote byte (n: none left); below i: look again
  let i = chunk.prefixLength;
  while (i < n) {
    if (field > last) {
      // Past the last checked field: jump to the row's end (memchr), unless a quote comes first.
      if (nextQuote < i) {
        nextQuote = text.indexOf(q, i);
        if (nextQuote < 0) nextQuote = n;
      }
      const lf = text.indexOf(LF, i);
      if (lf < 0) break;
      if (nextQuote > lf) {
        i = lf + 1;
      } else {
        let inQuotes = false;
        for (; i < n; i++) {
          const c = text[i];
          if (c === q) inQuotes = !inQuotes;
          else if (c === LF) {
            if (!inQuotes) break;
            line++;
          }
        }
        i++;
      }
      line++;
      field = 0;
      continue;
    }
    const k = byField[field];
    const start = i;
    let end: number;
    if (text[i] === q) {
      // A quoted field: to its closing quote (a doubled quote stays inside); lines inside count.
      let j = i + 1;
      const startLine = line;
      for (; j < n; j++) {
        const c = text[j];
        if (c === q) {
          if (text[j + 1] === q) j++;
          else break;
        } else if (c === LF) line++;
      }
      end = j + 1;
      while (end < n && text[end] !== delimiter && text[end] !== LF) end++;
      if (k >= 0) slow(k, text.toString('utf8', start + 1, j).split(quote + quote).join(quote), startLine);
    } else {
      let j = i;
      while (j < n && text[j] !== delimiter && text[j] !== LF) j++;
      end = j;
      if (k >= 0) {
        const stop = end > start && text[end - 1] === CR && (end === n || text[end] === LF) ? end - 1 : end;
        if (stop > start && !quickOk(quick[k], shapes[k], text, start, stop)) slow(k, text.toString('utf8', start, stop), line);
      }
    }
    i = end;
    if (i >= n) break;
    if (text[i] === delimiter) field++;
    else {
      field = 0;
      line++;
    }
    i++;
  }
}

function quickKind(rule: TextRule): Quick {
  // A declared float's plain decimals (at most 15 digits, no exponent) are surely in range.
  if (rule.origin === 'declared') return isFloat(rule.type) ? Quick.Float : Quick.Other;
  if (rule.type === 'int64') return Quick.Int;
  if (rule.type === 'float64') return Quick.Float;
  if (rule.shape !== undefined) return Quick.Shape;
  return Quick.Other;
}

/**
 * A datetime's shape as bytes (0: a digit); `zoned`: it ends in `Z` or an offset (`+01:00`), as
 * datetimeShape writes both; `nsYears`: nanoseconds, whose int64 holds only years 1678–2261
 * (polars wraps others without a word), so the quick look checks the year too.
 */
interface Shape {
  bytes: Uint8Array;
  zoned: boolean;
  nsYears: boolean;
}

function compileShape(shape: string, nsYears = false): Shape {
  const zoned = shape.endsWith('Z');
  const body = zoned ? shape.slice(0, -1) : shape;
  const bytes = new Uint8Array(body.length);
  for (let k = 0; k < body.length; k++) bytes[k] = body[k] === '9' ? 0 : body.charCodeAt(k);
  return { bytes, zoned, nsYears };
}

/** The four-digit year at `s` is one an int64 of nanoseconds holds (see csv/infer.ts's NS_YEARS). */
function nsYear(t: Buffer, s: number): boolean {
  const year = (t[s] - ZERO) * 1000 + (t[s + 1] - ZERO) * 100 + (t[s + 2] - ZERO) * 10 + (t[s + 3] - ZERO);
  return year >= 1678 && year <= 2261;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= ZERO + 9;
}

/** The bytes have the shape: digits where it has them, its other bytes as they are, then the zone. */
function hasShape(shape: Shape, t: Buffer, s: number, e: number): boolean {
  const want = shape.bytes;
  const rest = e - s - want.length;
  if (shape.zoned ? rest !== 1 && rest !== 6 : rest !== 0) return false;
  for (let k = 0; k < want.length; k++) {
    const c = t[s + k];
    if (want[k] === 0 ? !isDigit(c) : c !== want[k]) return false;
  }
  if (shape.nsYears && !nsYear(t, s)) return false;
  if (!shape.zoned) return true;
  const z = s + want.length;
  if (rest === 1) return t[z] === 90; // Z
  return (t[z] === 43 || t[z] === MINUS) && isDigit(t[z + 1]) && isDigit(t[z + 2]) && t[z + 3] === 58 && isDigit(t[z + 4]) && isDigit(t[z + 5]);
}

/** True where the bytes surely hold to the rule; false sends them to the exact rules. */
function quickOk(kind: Quick, shape: Shape | undefined, t: Buffer, s: number, e: number): boolean {
  switch (kind) {
    case Quick.Int: {
      // -?(0|[1-9][0-9]*), at most 18 digits (surely within int64)
      let k = t[s] === MINUS ? s + 1 : s;
      if (k === e || e - k > 18) return false;
      if (t[k] === ZERO) return k + 1 === e;
      for (; k < e; k++) if (!isDigit(t[k])) return false;
      return true;
    }
    case Quick.Float: {
      // -?(0|[1-9][0-9]*)(.[0-9]+)? with at most 15 digits: a float64 holds those exactly
      let k = t[s] === MINUS ? s + 1 : s;
      if (k === e) return false;
      const lead = k;
      if (t[k] === ZERO && k + 1 < e && t[k + 1] !== DOT) return false;
      let digits = 0;
      for (; k < e && isDigit(t[k]); k++) digits++;
      if (k === lead) return false;
      if (k < e) {
        if (t[k] !== DOT || k + 1 === e) return false;
        for (k++; k < e; k++) {
          if (!isDigit(t[k])) return false;
          digits++;
        }
      }
      return digits <= 15;
    }
    case Quick.Shape:
      return hasShape(shape!, t, s, e);
    case Quick.Other:
      return false;
  }
}

function violation(check: TextCheck, k: number, value: string, at: { file: string; line: number; chunkShape?: string }): SourceError {
  const { column, rule } = check.fields[k];
  const where = { file: at.file, line: at.line, column };
  const shown = JSON.stringify(value);
  if (rule.origin === 'declared') {
    if (isFloat(rule.type)) {
      return new SourceError(`value ${shown} is beyond what ${rule.type} holds (it would be read as ${Number(value) === 0 || Math.abs(Number(value)) < 1 ? '0' : 'inf'}); declare the column utf8 (or float64) and convert it in a stage`, where);
    }
    if (!fits(rule.type, value)) {
      return new SourceError(`value ${shown} is not a valid ${rule.type} (the column's type, from the config's schema)`, where);
    }
    return new SourceError(
      `value ${shown} is written another way (${datetimeShape(value)}) than the column's earlier values in these rows (${at.chunkShape}): polars reads one of the two ways wrong; write the column's datetimes one way, or declare it utf8 and parse it in a stage`,
      where,
    );
  }
  return new SourceError(`value ${shown} ${whyNot(rule, value)}; its type ${rule.type} was inferred from ${check.inferredFrom}. Declare the column in source.schema (utf8 keeps every value as written)`, where);
}

/** Why a value breaks an inferred type's rules, in the words a user would check the file with. */
function whyNot(rule: TextRule, value: string): string {
  const numeric = rule.type === 'int64' || rule.type === 'float64';
  if (numeric) {
    if (/^\s|\s$/.test(value)) return 'has spaces around it, which an inferred number would drop';
    if (/^\+/.test(value)) return 'has a plus sign, which an inferred number would drop';
    if (/^-?0\d/.test(value)) return 'has a leading zero, which an inferred number would drop';
    if (rule.type === 'float64' && NON_FINITE.test(value)) return 'is not finite, and the first rows held only finite numbers';
    if (rule.type === 'float64' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) return 'is not held exactly by a float64 (it would become ' + String(Number(value)) + ')';
    if (rule.type === 'int64' && /^-?\d+$/.test(value)) return 'is beyond the range of int64';
    return `is not a${rule.type === 'int64' ? 'n integer' : ' number'}`;
  }
  if (rule.shape !== undefined && fits(rule.type === 'datetime' ? 'timestamp' : rule.type, value)) {
    return `is written another way (${datetimeShape(value)}) than the first rows wrote the column (${rule.shape}), and polars would read it wrong`;
  }
  return `is not a ${rule.type} as the first rows wrote it`;
}
