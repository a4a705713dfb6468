/**
 * `source.onError: 'skip' | 'dead-letter'` for NDJSON: a batch's lines parsed as readNdjson
 * does, except that a line the checks refuse (not JSON, not an object, invalid UTF-8, a value
 * its column's type does not hold, a field the fixed schema lacks) is taken out and told to
 * `onBad` (file, line, the column when one value was refused, the reason, the line's text and
 * the values that did parse), and the batch is parsed again without it, until it parses. The
 * line is blanked, not removed, so every other line keeps its physical number (polars skips
 * blank lines) and a later error still names its own line.
 *
 * An error that names no single line (polars refused the batch and no line could be blamed)
 * fails as it does without onError. Cost: one more parse of the batch per bad line; a batch
 * without one is parsed once, as before.
 */
import { isUtf8 } from 'node:buffer';
import { SourceError } from '../../errors';
import type { BadRow } from '../../csv/salvage';
import { RawNumber, parseRaw, type RawValue } from './ndjson-raw';
import type { Lines } from './ndjson-locate';

/** Errors that name a batch's first line for the whole batch, not a line of its own: never a line to take out. */
export const wholeBatch = new WeakSet<SourceError>();

/** `parse(lines)`, taking out each line it refuses (told to `onBad`) until the rest parses. */
export function parseSalvaging<T>(lines: Lines, file: string, parse: (lines: Lines) => T[], onBad: (bad: BadRow) => void): T[] {
  let current = lines;
  // Told in line order once the rest parsed (the checks find them in their own order, not the lines').
  const bad: BadRow[] = [];
  const told = <R>(result: R): R => {
    for (const b of bad.sort((x, y) => x.line - y.line)) onBad(b);
    return result;
  };
  for (;;) {
    if (allBlank(current.bytes)) return told([]);
    let err: unknown;
    try {
      return told(parse(current));
    } catch (e) {
      err = e;
    }
    if (!(err instanceof SourceError) || err.line === undefined || wholeBatch.has(err)) throw err;
    const cut = blankLine(current, err.line);
    if (!cut) throw err;
    bad.push({ file, line: err.line, ...(err.column !== undefined && { column: err.column }), reason: err.detail, raw: cut.raw, values: valuesOf(cut.raw, err.column, cut.utf8) });
    current = cut.rest;
  }
}

/** The batch with physical line `line` made blank (its newline kept), and the line's text; undefined when it is not in the batch or blank already. */
export function blankLine(lines: Lines, line: number): { rest: Lines; raw: string; utf8: boolean } | undefined {
  const bytes = lines.bytes;
  let start = 0;
  for (let k = lines.firstLine; k < line; k++) {
    const nl = bytes.indexOf(10, start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const nl = bytes.indexOf(10, start);
  const end = nl < 0 ? bytes.length : nl;
  if (end === start) return undefined;
  const raw = bytes.toString('utf8', start, end).replace(/\r$/, '');
  return { rest: { ...lines, bytes: Buffer.concat([bytes.subarray(0, start), bytes.subarray(end)]) }, raw, utf8: isUtf8(bytes.subarray(start, end)) };
}

/**
 * The values of the line that did parse: its fields (numbers exact: an integer a double cannot
 * hold as a bigint), but not `column`'s (the refused one; for a nested path, its top-level
 * field), nor, in a line that is not UTF-8 (`utf8` false), a field whose text holds a byte that
 * is not (its text would not be the file's). Nothing when the line is not a JSON object.
 */
export function valuesOf(raw: string, column: string | undefined, utf8 = true): Record<string, unknown> {
  let parsed: RawValue;
  try {
    parsed = parseRaw(raw);
  } catch {
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || parsed instanceof RawNumber) return {};
  const refused = column?.split(/[.[]/)[0];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed)) if (k !== refused && (utf8 || !JSON.stringify(v).includes('\ufffd'))) out[k] = plain(v);
  return out;
}

function plain(v: RawValue): unknown {
  if (v instanceof RawNumber) {
    if (!v.integer) return Number(v.text);
    const n = BigInt(v.text);
    return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n;
  }
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function allBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 10 && b !== 13 && b !== 32 && b !== 9) return false;
  return true;
}
