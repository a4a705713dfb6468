/**
 * An Arrow IPC file holds one dictionary per field for the whole file (the format allows no
 * replacement; deltas polars cannot read, up to 1.44 at least). Batches from stages carry a
 * dictionary of their own each: apache-arrow's `tableFromArrays` makes one per call for strings.
 * Written as they came, the second batch's dictionary was a replacement, and apache-arrow's
 * writer made a file no reader opens (pyarrow: "Verification of flatbuffer-encoded Footer
 * failed"; apache-arrow itself threw) while the run exited 0. So the Arrow sink writes a
 * dictionary column as its values, in the dictionary's value type: the same values in every
 * reader, memory bounded by the batch (a file-wide dictionary would hold every distinct value
 * of the run: a column of hashes, all of them); batch/dictionaries.ts decodes them, as for polars.
 * A dictionary nested in a list or struct is left to the writer, and refused if it changes.
 */
import type { RecordBatch, Vector } from 'apache-arrow';
import { SinkError } from '../../../errors';

/**
 * A nested dictionary (in a list or struct) is written by apache-arrow once per id: refuse a batch
 * whose nested dictionary differs from the one already written, rather than write a file no
 * reader opens.
 */
export function checkNestedDictionaries(batch: RecordBatch, written: Map<number, Vector>, file: string): void {
  const first = written.size === 0;
  for (const [id, dictionary] of batch.dictionaries) {
    if (first) written.set(id, dictionary);
    else if (written.get(id)?.data[0] !== dictionary.data[0]) {
      throw new SinkError(`a dictionary nested in a list or struct changes between batches; an Arrow IPC file holds one dictionary per field, so ${file} cannot hold these batches (write Parquet, or build that column without a dictionary)`);
    }
  }
}
