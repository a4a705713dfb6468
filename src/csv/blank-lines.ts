/**
 * Blank lines between CSV rows are skipped, as DuckDB and pandas do (polars would read each
 * as a row of nulls). In a one-column file a blank line is a null value instead (DuckDB
 * agrees), so those never come here. The scanners count the blank lines; only a chunk that
 * has some pays for this pass.
 */

const LF = 10;
const CR = 13;

/**
 * Removes the blank lines (nothing, or only CRs, outside quotes) from `buf[from, to)` in
 * place. Returns the new end and the physical line numbers removed (ascending), counting
 * from `firstLine` at `from`.
 */
export function stripBlankLines(buf: Buffer, from: number, to: number, quote: number, firstLine: number): { end: number; skipped: number[] } {
  const skipped: number[] = [];
  let write = from;
  let line = firstLine;
  let lineStart = from;
  let blank = true;
  let inQuotes = false;
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c === LF) {
      if (!inQuotes && blank) skipped.push(line);
      else write = keep(buf, write, lineStart, i + 1);
      line++;
      lineStart = i + 1;
      if (!inQuotes) blank = true;
      continue;
    }
    if (c === quote) inQuotes = !inQuotes;
    if (c !== CR) blank = false;
  }
  // A last line without LF: kept unless blank.
  if (lineStart < to) {
    if (blank && !inQuotes) skipped.push(line);
    else write = keep(buf, write, lineStart, to);
  }
  return { end: write, skipped };
}

/** Moves `buf[from, to)` down to `write` (nothing to move before the first removed line). */
function keep(buf: Buffer, write: number, from: number, to: number): number {
  if (write !== from) buf.copy(buf, write, from, to);
  return write + to - from;
}

/** The physical line of a line counted in text with `skipped` lines removed. */
export function physicalLine(line: number, skipped: readonly number[] | undefined): number {
  if (!skipped) return line;
  for (const s of skipped) {
    if (s <= line) line++;
    else break;
  }
  return line;
}
