/**
 * Arrow IPC, file or stream format, batch by batch; batches above `batchRows` are split.
 * One descriptor is held for the whole read (a file replaced meanwhile is read as it was;
 * one changed in place is an error naming it), projection and schema keys are checked
 * against the file's schema, and Hive partition columns of the path are added as text.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Field, RecordBatch, RecordBatchReader, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import type { BatchWithLease } from './arrow-convert';
import { SourceError } from '../../errors';
import '../../batch/arrow-names'; // before any schema is decoded
import { assertUnchanged } from '../file-identity';
import { assertColumnsExist } from './columns';
import { hiveColumns } from './hive';

export async function* readArrow(file: string, o: { batchRows: number; columns?: string[]; schema?: Record<string, unknown> }): AsyncGenerator<BatchWithLease> {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new SourceError(`cannot open (${err.code ?? err.message})`, { file }, err);
  });
  try {
    const planned = await handle.stat();
    const kind = await kindOf(handle, planned.size, file);
    const batches = await openReader(await sameFile(handle, file), kind, file);
    let checked = false;
    try {
      for (;;) {
        let next: IteratorResult<RecordBatch>;
        try {
          next = await batches.next();
        } catch (err) {
          await assertUnchanged(handle, planned, file);
          throw new SourceError(`truncated or corrupt Arrow IPC ${kind} (${planned.size} bytes): ${(err as Error).message}`, { file }, err);
        }
        await assertUnchanged(handle, planned, file);
        if (next.done) break;
        const batch = next.value;
        const hive = hiveColumns(file).filter(([key]) => !batch.schema.fields.some((f) => f.name === key));
        if (!checked) assertColumnsExist(file, [...batch.schema.fields.map((f) => f.name), ...hive.map(([key]) => key)], o, 'Arrow IPC');
        checked = true;
        const withHive = hive.length ? addTextColumns(batch, hive) : batch;
        const projected = o.columns ? selectColumns(withHive, o.columns) : withHive;
        for (let offset = 0; offset < projected.numRows || offset === 0; offset += o.batchRows) {
          yield { batch: projected.numRows > o.batchRows ? projected.slice(offset, offset + o.batchRows) : projected };
          if (projected.numRows === 0) break;
        }
      }
    } finally {
      await batches.return?.();
    }
    if (!checked) throw new SourceError(`Arrow IPC ${kind} without a schema message: no columns to read`, { file });
  } finally {
    await handle.close();
  }
}

/**
 * The named columns, in the order named. Not apache-arrow's `RecordBatch.select`: in 21.2 it
 * puts each column at its old index in a sparse list of children, so any selection but a
 * prefix pairs names with the wrong columns (`x` reading `day`'s values), without an error.
 */
function selectColumns(batch: RecordBatch, names: readonly string[]): RecordBatch {
  const at = new Map(batch.schema.fields.map((f, i) => [f.name, i]));
  return batch.selectAt(names.map((name) => at.get(name)!)); // assertColumnsExist checked each name
}

/** File or stream format, from the magic; an empty or cut-off file is named as such. */
async function kindOf(handle: FileHandle, size: number, file: string): Promise<'file' | 'stream'> {
  if (size === 0) throw new SourceError('empty file (0 bytes): no Arrow IPC schema, so no columns to read', { file });
  const head = Buffer.alloc(6);
  const tail = Buffer.alloc(6);
  await handle.read(head, 0, 6, 0);
  if (head.toString('latin1') !== 'ARROW1') return 'stream';
  await handle.read(tail, 0, 6, Math.max(0, size - 6));
  if (size < 12 || tail.toString('latin1') !== 'ARROW1') throw new SourceError(`truncated Arrow IPC file (${size} bytes): it starts with ARROW1 but does not end with it, so its footer is missing`, { file });
  return 'file';
}

/**
 * A second descriptor of the same file for apache-arrow's reader, which closes what it
 * reads from when done, while ours stays open to check the file did not change.
 */
async function sameFile(handle: FileHandle, file: string): Promise<FileHandle> {
  const second = await open(file, 'r');
  const [a, b] = await Promise.all([handle.stat(), second.stat()]);
  if (a.dev !== b.dev || a.ino !== b.ino) {
    await second.close();
    throw new SourceError('replaced while being opened; rerun once it is complete', { file });
  }
  return second;
}

async function openReader(handle: FileHandle, kind: 'file' | 'stream', file: string): Promise<AsyncIterator<RecordBatch>> {
  try {
    const reader = kind === 'file' ? await RecordBatchReader.from(handle) : await RecordBatchReader.from(handle.createReadStream({ start: 0 }));
    return reader[Symbol.asyncIterator]();
  } catch (err) {
    throw new SourceError(`not a readable Arrow IPC ${kind} (truncated or corrupt?): ${(err as Error).message}`, { file }, err);
  }
}

/** `batch` with one text column per `[name, value]`, every row holding that value. */
function addTextColumns(batch: RecordBatch, columns: [string, string | null][]): RecordBatch {
  const fields = [...batch.schema.fields, ...columns.map(([name]) => new Field(name, new Utf8(), true))];
  const children = [...batch.data.children, ...columns.map(([, value]) => vectorFromArray(Array.from({ length: batch.numRows }, () => value), new Utf8()).data[0])];
  const schema = new Schema(fields, batch.schema.metadata);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
}
