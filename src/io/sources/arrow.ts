/** Arrow IPC, file or stream format, batch by batch; batches above `batchRows` are split. */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import type { BatchWithLease } from './arrow-convert';
import { SourceError } from '../../errors';
import '../../batch/arrow-names'; // before any schema is decoded

export async function* readArrow(file: string, o: { batchRows: number; columns?: string[] }): AsyncGenerator<BatchWithLease> {
  const handle = await open(file, 'r');
  const magic = Buffer.alloc(6);
  await handle.read(magic, 0, 6, 0);
  const isFile = magic.toString('latin1') === 'ARROW1';
  let reader: AsyncIterable<RecordBatch>;
  try {
    reader = isFile ? await RecordBatchReader.from(handle) : await RecordBatchReader.from(createReadStream(file));
  } catch (err) {
    await handle.close();
    throw new SourceError(`not an Arrow IPC file or stream: ${(err as Error).message}`, { file }, err);
  }
  try {
    for await (const batch of reader) {
      const projected = o.columns ? batch.select(o.columns) : batch;
      for (let offset = 0; offset < projected.numRows || offset === 0; offset += o.batchRows) {
        yield { batch: projected.numRows > o.batchRows ? projected.slice(offset, offset + o.batchRows) : projected };
        if (projected.numRows === 0) break;
      }
    }
  } finally {
    if (!isFile) await handle.close();
    else await handle.close().catch(() => undefined);
  }
}
