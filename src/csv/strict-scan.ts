/**
 * The reference scan of csv/strict.ts, in JavaScript: walks a chunk's bytes once and looks at
 * each checked field's bytes with a few comparisons (the quick look); what it cannot settle
 * (quoted, exponents, many digits, null markers) goes to the judge's exact rules. The
 * WebAssembly scan (strict-wasm.ts, wasm/text-check.c) does the same walk faster and is held
 * to this one's answers; this one runs where WebAssembly SIMD does not.
 */
import { QUICK_FLOAT, QUICK_INT, QUICK_OTHER, QUICK_SHAPE, type ChunkBytes, type Judge, type Shape } from './strict-judge';

const LF = 10;
const CR = 13;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
// Local copies: an imported binding is a property read on every use in the hot switch below.
const INT = QUICK_INT;
const FLOAT = QUICK_FLOAT;
const SHAPE = QUICK_SHAPE;
const OTHER = QUICK_OTHER;

/** Throws the judge's SourceError for the first checked value in the chunk that breaks its column's rule. */
export function scanJs(chunk: ChunkBytes, judge: Judge, sep: string, quote: string): void {
  const text = chunk.text;
  const n = text.length;
  const delimiter = sep.charCodeAt(0);
  const q = quote.charCodeAt(0);
  const fields = judge.check.fields;
  const last = fields[fields.length - 1].field;
  const byField: number[] = new Array<number>(last + 1).fill(-1);
  fields.forEach((f, k) => (byField[f.field] = k));
  const { quick, shapes } = judge;

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
      if (k >= 0) judge.slow(k, text.toString('utf8', start + 1, j).split(quote + quote).join(quote), startLine);
    } else {
      let j = i;
      while (j < n && text[j] !== delimiter && text[j] !== LF) j++;
      end = j;
      if (k >= 0) {
        const stop = end > start && text[end - 1] === CR && (end === n || text[end] === LF) ? end - 1 : end;
        if (stop > start && !quickOk(quick[k], shapes[k], text, start, stop)) judge.slow(k, text.toString('utf8', start, stop), line);
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
function quickOk(kind: number, shape: Shape | undefined, t: Buffer, s: number, e: number): boolean {
  switch (kind) {
    case INT: {
      // -?(0|[1-9][0-9]*), at most 18 digits (surely within int64)
      let k = t[s] === MINUS ? s + 1 : s;
      if (k === e || e - k > 18) return false;
      if (t[k] === ZERO) return k + 1 === e;
      for (; k < e; k++) if (!isDigit(t[k])) return false;
      return true;
    }
    case FLOAT: {
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
    case SHAPE:
      return hasShape(shape!, t, s, e);
    case OTHER:
    default:
      return false;
  }
}
