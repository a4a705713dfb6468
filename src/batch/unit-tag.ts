/**
 * Which unit (input file) of a resumable run a batch belongs to, carried in its schema's
 * metadata where the item it travels in says another: the Parquet encoding stage ends a row
 * group at a unit's edge when the next unit's first item arrives, and the parts of that group
 * belong to the unit before (io/units/staging.ts reads the tag). Like batch/partition-tag.ts.
 */
import { RecordBatch, Schema } from 'apache-arrow';

const KEY = 'sluice.unit';

export function tagUnit(batch: RecordBatch, file: string): RecordBatch {
  const metadata = new Map(batch.schema.metadata);
  metadata.set(KEY, file);
  return new RecordBatch(new Schema(batch.schema.fields, metadata, batch.schema.dictionaries), batch.data);
}

export function unitTagOf(batch: RecordBatch): string | undefined {
  return batch.schema.metadata.get(KEY);
}

/**
 * A unit of a resumable or cluster run: a whole input file, or a range of a Parquet file's row
 * groups (`groups`: first and last, inclusive; `firstRow`: rows of the file before the range,
 * so row numbers stay the file's). Units are keyed by (file, first group, last group).
 */
export interface UnitSpec {
  file: string;
  groups?: [number, number];
  firstRow?: number;
}

/** Between a file and its range in a unit's key: NUL, which no path holds, so a key is never taken for a file. */
const RANGE = '\u0000row-groups=';

/** The unit's key: its file for a whole file, the file and its range for a range (what staging, the manifest and rejects key units by). */
export function unitKey(unit: UnitSpec): string {
  return unit.groups ? `${unit.file}${RANGE}${unit.groups[0]}-${unit.groups[1]}` : unit.file;
}

/** The input file of a unit's key. */
export function fileOfUnitKey(key: string): string {
  const at = key.indexOf(RANGE);
  return at < 0 ? key : key.slice(0, at);
}

/** A unit as people read it: the file, and its row groups when it is a range. */
export function describeUnit(unit: UnitSpec): string {
  return unit.groups ? `${unit.file} (row groups ${unit.groups[0]}–${unit.groups[1]})` : unit.file;
}
