/**
 * Every CSV file's header, checked before the first batch: a source of 10 000 small files
 * whose last one has other columns failed only once the 9 999 before it were read (119 s
 * in). The header is the first row alone, read a few KiB at a time, several files at once
 * (bounded), through the reader's own code (header.ts: names, duplicates, UTF-8, quotes).
 * Each file must give the columns the first gives, in its order (with `source.columns`, it
 * must have those columns), as the readers require later; an empty file is refused too.
 * The error names the earliest bad file in reading order, so every run reports the same one.
 */
import { SourceError } from '../../../errors';
import { assertColumnsExist } from '../columns';
import { readCsvColumns, type CsvReadOptions } from './index';

/** Files whose headers are read at once: a few descriptors, enough to hide the latency of each open. */
export const HEADER_CONCURRENCY = 16;
/** Bytes per read: most headers fit in one; a longer one is read on (up to source.maxRowBytes). */
const HEADER_READ_SIZE = 16 * 1024;

export async function checkCsvHeaders(files: string[], cfg: CsvReadOptions['cfg'], concurrency = HEADER_CONCURRENCY): Promise<void> {
  if (files.length < 2) return; // one file: its reader checks its header first anyway
  const names: (string[] | undefined)[] = new Array(files.length);
  const failures: { index: number; err: unknown }[] = [];
  let next = 0;
  let stopAt = files.length; // past the earliest failure, later files need not be read
  const worker = async () => {
    while (next < stopAt) {
      const index = next++;
      try {
        names[index] = await readCsvColumns({ file: files[index], cfg, readSize: HEADER_READ_SIZE });
        if (names[index] === undefined) throw new SourceError('empty file: no header, so no columns to read', { file: files[index] });
      } catch (err) {
        failures.push({ index, err });
        stopAt = Math.min(stopAt, index);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  const firstBad = failures.length ? failures.reduce((a, b) => (b.index < a.index ? b : a)) : undefined;
  // Files before the earliest failure were all read: compare them in order, first difference wins.
  const end = firstBad?.index ?? files.length;
  const first = names[0];
  for (let i = 1; i < end && first; i++) compare(files[i], names[i]!, files[0], first, cfg);
  if (firstBad) throw firstBad.err;
}

function compare(file: string, names: string[], firstFile: string, first: string[], cfg: CsvReadOptions['cfg']): void {
  if (cfg.columns) {
    assertColumnsExist(file, names, { columns: cfg.columns });
    return;
  }
  if (names.length === first.length && names.every((n, i) => n === first[i])) return;
  throw new SourceError(`columns differ from ${firstFile}: ${names.join(', ')} vs ${first.join(', ')} (every file of a source must have the same columns, in the same order)`, { file, line: 1 });
}
