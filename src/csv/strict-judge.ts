/**
 * What csv/strict.ts's scans (the JavaScript reference, strict-scan.ts, and the WebAssembly
 * one, strict-wasm.ts) share: the rules of a chunk's checked columns, the quick look's kind of
 * each, and the exact rules of csv/infer.ts for whatever the quick look cannot settle, with
 * the error that names file, line and column. A scan only finds the fields and asks.
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

/** What a chunk's text looks like to a scan (the part of csv/parse.ts's ChunkText it reads). */
export interface ChunkBytes {
  text: Buffer;
  prefixLength: number;
  firstLine: number;
  skippedLines?: number[];
}

/** Kinds the quick look tells apart, per checked field (the same numbers in wasm/text-check.c). */
export const QUICK_INT = 0;
export const QUICK_FLOAT = 1;
export const QUICK_SHAPE = 2;
export const QUICK_OTHER = 3;

/**
 * A datetime's shape as bytes (0: a digit); `zoned`: it ends in `Z` or an offset (`+01:00`), as
 * datetimeShape writes both; `nsYears`: nanoseconds, whose int64 holds only years 1678–2261
 * (polars wraps others without a word), so the quick look checks the year too.
 */
export interface Shape {
  bytes: Uint8Array;
  zoned: boolean;
  nsYears: boolean;
}

export function compileShape(shape: string, nsYears = false): Shape {
  const zoned = shape.endsWith('Z');
  const body = zoned ? shape.slice(0, -1) : shape;
  const bytes = new Uint8Array(body.length);
  for (let k = 0; k < body.length; k++) bytes[k] = body[k] === '9' ? 0 : body.charCodeAt(k);
  return { bytes, zoned, nsYears };
}

function isFloat(type: CsvType): type is 'float32' | 'float64' {
  return type === 'float32' || type === 'float64';
}

export function isDatetime(type: CsvType): boolean {
  return type === 'timestamp' || type.startsWith('datetime');
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

function quickKind(rule: TextRule): number {
  // A declared float's plain decimals (at most 15 digits, no exponent) are surely in range.
  if (rule.origin === 'declared') return isFloat(rule.type) ? QUICK_FLOAT : QUICK_OTHER;
  if (rule.type === 'int64') return QUICK_INT;
  if (rule.type === 'float64') return QUICK_FLOAT;
  if (rule.shape !== undefined) return QUICK_SHAPE;
  return QUICK_OTHER;
}

/** One chunk's checked columns: their quick looks, and the exact rules behind them. */
export class Judge {
  /** The quick look of each checked field (an index into `check.fields`). */
  readonly quick: number[];
  readonly shapes: (Shape | undefined)[];
  /** A declared datetime's shape in this chunk: its first value's. */
  private readonly chunkShapes: (string | undefined)[];

  constructor(
    readonly check: TextCheck,
    private readonly file: string,
    private readonly skippedLines: number[] | undefined,
  ) {
    this.quick = check.fields.map(({ rule }) => quickKind(rule));
    this.shapes = check.fields.map(({ rule }) => (rule.shape !== undefined ? compileShape(rule.shape, rule.type.includes('ns')) : undefined));
    this.chunkShapes = check.fields.map(() => undefined);
  }

  /**
   * The exact rules, for a value of field `k` the quick look did not settle, on `line` (before
   * blank lines were removed): throws a SourceError when it breaks them. True when the field's
   * quick look changed (a declared datetime's first value in the chunk fixed its shape).
   */
  slow(k: number, value: string, line: number): boolean {
    if (value === '' || this.check.nullValues.includes(value)) return false;
    const { rule } = this.check.fields[k];
    if (rule.origin === 'inferred') {
      if (!isStrictValue(rule.type, value, rule.shape)) this.fail(k, value, line);
      if (rule.type === 'float64' && !rule.nonFinite && NON_FINITE.test(value)) this.fail(k, value, line);
      return false;
    }
    if (isFloat(rule.type)) {
      // declared float: polars' text forms, but never a finite value read as inf or 0
      if (fits(rule.type, value.trim()) && outOfFloatRange(rule.type, value)) this.fail(k, value, line);
      return false;
    }
    // declared datetime: what polars parses, written one way in the chunk
    if (!fits(rule.type, value)) this.fail(k, value, line);
    const shape = datetimeShape(value);
    if (this.chunkShapes[k] === undefined) {
      this.chunkShapes[k] = shape;
      this.shapes[k] = compileShape(shape);
      this.quick[k] = QUICK_SHAPE;
      return true;
    }
    if (this.chunkShapes[k] !== shape) this.fail(k, value, line);
    return false;
  }

  private fail(k: number, value: string, line: number): never {
    throw violation(this.check, k, value, { file: this.file, line: physicalLine(line, this.skippedLines), chunkShape: this.chunkShapes[k] });
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
