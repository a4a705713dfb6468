/**
 * How a resumable or cluster run is cut into units: one per input file, except a Parquet file
 * of more rows than `source.unitRows`, which is cut into ranges of whole row groups of about
 * that many rows each (from its footer: nothing else is read). A resume redoes only the
 * unfinished ranges, and a cluster spreads one big file over its workers. CSV and NDJSON stay
 * whole files: a byte offset inside them is no safe place to start (quoted newlines), and
 * Arrow IPC files are read whole.
 */
import type { UnitSpec } from '../../batch/unit-tag';
export { describeUnit, type UnitSpec } from '../../batch/unit-tag';
import { readRowGroups } from '../parquet/file';

/** Rows a Parquet range unit aims at, by default: enough that a unit's commit costs little beside it, few enough that a resume or a worker gets a share of one big file. */
export const DEFAULT_UNIT_ROWS = 1_000_000;

/** The units of `files` (in input order), each Parquet file cut by its row groups into ranges of about `unitRows` rows. */
export async function cutUnits(files: readonly string[], format: string, unitRows = DEFAULT_UNIT_ROWS): Promise<UnitSpec[]> {
  if (format !== 'parquet') return files.map((file) => ({ file }));
  const units: UnitSpec[] = [];
  for (const file of files) {
    const groups = await readRowGroups(file);
    const total = groups.reduce((n, g) => n + g.rows, 0);
    // A file that is one unit is read as a whole file, as outside resumable runs.
    if (total <= unitRows || groups.length < 2) {
      units.push({ file });
      continue;
    }
    let first = 0;
    let rows = 0;
    for (const [i, g] of groups.entries()) {
      rows += g.rows;
      if (rows >= unitRows || i === groups.length - 1) {
        units.push({ file, groups: [first, i], firstRow: groups[first].offset });
        first = i + 1;
        rows = 0;
      }
    }
  }
  return units;
}
