/**
 * Hive partition columns of an input path: each directory `key=value` adds a column `key`
 * holding `value` for every row of the files below it, as sluice's own partitioned output
 * is laid out (`day=2026-11-24/part-00000-<run>.parquet`). Values are decoded as the sink
 * encodes them (percent-escapes; `__HIVE_DEFAULT_PARTITION__` is null) and always typed as
 * text: a type guessed per directory could differ between files of one source (`08123`,
 * `2026-11-24`), and text loses nothing; a stage casts what it needs.
 */
import path from 'node:path';

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

export function hiveColumns(file: string): [string, string | null][] {
  const out: [string, string | null][] = [];
  for (const segment of path.dirname(file).split(path.sep)) {
    const eq = segment.indexOf('=');
    if (eq <= 0) continue;
    const key = decode(segment.slice(0, eq));
    const value = segment.slice(eq + 1);
    const entry: [string, string | null] = [key, value === HIVE_NULL ? null : decode(value)];
    const at = out.findIndex(([k]) => k === key);
    // a key repeated deeper in the path: the innermost directory holds the rows
    if (at >= 0) out[at] = entry;
    else out.push(entry);
  }
  return out;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
