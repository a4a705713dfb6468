/** Columns named "" and "null" stay two columns with their own values through every Arrow hand-off. */
import { Table, tableFromIPC, type RecordBatch, tableToIPC, vectorFromArray } from 'apache-arrow';
import pl from 'nodejs-polars';
import { decodeBatches, encodeBatches } from '../../../src/batch/ipc';
import { SlabArena } from '../../../src/batch/slab';
import { fromShared, toShared } from '../../../src/batch/shared';

const batch: RecordBatch = new Table({ a: vectorFromArray([1]), '': vectorFromArray([2]), null: vectorFromArray([3]) }).batches[0];
const columns = (b: RecordBatch) => b.schema.fields.map((f) => [f.name, Number(b.getChild(f.name)!.get(0))]);
const expected = [['a', 1], ['', 2], ['null', 3]];

describe('empty and "null" column names', () => {
  it('survive the shared-memory hand-off (threads, inline stages)', () => {
    expect(columns(fromShared(toShared([batch], new SlabArena()).shared)[0])).toEqual(expected);
  });

  it('survive the IPC stream hand-off (child processes)', () => {
    const { chunks } = encodeBatches([batch]);
    expect(columns(decodeBatches(Buffer.concat(chunks))[0])).toEqual(expected);
  });

  it('are written so that polars reads them (Parquet encoding, partitioning) and apache-arrow reads them back', () => {
    for (const format of ['file', 'stream'] as const) {
      const bytes = tableToIPC(new Table(batch), format);
      expect(columns(tableFromIPC(bytes).batches[0])).toEqual(expected);
      expect((format === 'file' ? pl.readIPC(Buffer.from(bytes)) : pl.readIPCStream(Buffer.from(bytes))).columns).toEqual(['a', '', 'null']);
    }
  });
});
