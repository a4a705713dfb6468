/**
 * Staged units' batches, in unit order, as one stream: what a run that was never cut into units
 * would have handed the sink. Shared by the resumable run's job commit (units.ts) and the
 * cluster's commit job (src/cluster/commit.ts), which get their units' frames files from the
 * manifest and from the finished unit jobs' results.
 */
import type { RecordBatch } from 'apache-arrow';
import { blobKind } from '../../batch/blob';
import { PART_BLOB, partOf } from '../parquet/encoder/parts';
import { readFrames } from './frames';

/** One unit's staged frames for one stream, and the input file the unit read. */
export interface StagedFrames {
  frames: string;
  input?: string;
  /** The unit's index (from 0), for a failure's message. */
  unit?: number;
}

/**
 * The batches of `units` (in unit order; null: the unit gave this stream nothing), each with its
 * unit's input file. `failure`: what a unit's frames that cannot be read (an I/O error, a file
 * gone or cut short) throw instead of the reader's own words (io/units/failures.ts); errors of
 * whoever takes the batches are theirs, not caught here.
 */
export function* replayStaged(units: Iterable<StagedFrames | null>, failure?: (err: unknown, unit: StagedFrames) => Error): Generator<{ batch: RecordBatch; file?: string }> {
  let parts = 0;
  for (const unit of units) {
    if (unit === null) continue;
    for (const batch of framesOf(unit, failure)) {
      if (blobKind(batch) === PART_BLOB) {
        // The schema-only file a unit without rows ends with is no part of an output that has row groups.
        if (partOf(batch).whole && parts > 0) continue;
        parts++;
      }
      yield { batch, file: unit.input };
    }
  }
}

/** readFrames of one unit's file, a failure to read it passed through `failure`. */
function* framesOf(unit: StagedFrames, failure: ((err: unknown, unit: StagedFrames) => Error) | undefined): Generator<RecordBatch> {
  const frames = readFrames(unit.frames);
  try {
    for (;;) {
      let r: IteratorResult<RecordBatch>;
      try {
        r = frames.next();
      } catch (err) {
        throw failure ? failure(err, unit) : err;
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    // Taken no further (the run failed): its file is closed.
    frames.return(undefined);
  }
}

/** The batches of `files` (one frames file per unit, in unit order; null: the unit gave this sink nothing). */
export function* replayUnits(files: Iterable<string | null>): Generator<RecordBatch> {
  const staged = function* () {
    for (const frames of files) yield frames === null ? null : { frames };
  };
  for (const { batch } of replayStaged(staged())) yield batch;
}
