/**
 * Parquet, one row group at a time: the footer gives the row-group layout and is checked
 * for types polars cannot read, its Arrow schema hint is set to the Parquet types where
 * polars would misread the hint (arrow-hint.ts) and JSON columns are marked text
 * (json-as-text.ts); UUID columns become their text (uuid.ts); polars decodes exactly one group, handed over as a file of
 * its own read through the descriptor held since the footer (io/parquet/file.ts: the input
 * cannot change under the read); a group larger than `batchRows` is split. Hive partition
 * columns of the path are added as text. `frames`: each batch a stand-in for polars' own frame
 * (arrow-convert.ts polarsToStandIns), for a vectorised chain on this thread.
 */
import type pl from 'nodejs-polars';
import { polars } from '../../batch/lazy-polars';
import { SourceError } from '../../errors';
import { polarsToBatches, polarsToStandIns, type BatchWithLease } from './arrow-convert';
import { openParquet } from '../parquet/file';
import { forPolars } from '../parquet/for-polars';
import { uuidColumns, uuidsAsText } from '../parquet/uuid';
import { field, type ThriftList, type ThriftStruct } from '../parquet/thrift';
import { assertColumnsExist } from './columns';
import { hiveColumns } from './hive';

/** Row groups decoded and not yet fully handed on, now and at most (asserted in tests). */
export const rowGroupGauge = { current: 0, peak: 0 };

/** `groups`: read only row groups first to last (inclusive; a unit of a resumable or cluster run, io/units/ranges.ts). */
export async function* readParquet(file: string, o: { batchRows: number; columns?: string[]; schema?: Record<string, unknown>; groups?: [number, number]; frames?: boolean }): AsyncGenerator<BatchWithLease> {
  const pinned = await openParquet(file, { rewrite: forPolars(file) });
  try {
    const own = topLevelColumns(pinned.meta);
    const hive = hiveColumns(file).filter(([key]) => !own.includes(key));
    const all = [...own, ...hive.map(([key]) => key)];
    assertColumnsExist(file, all, o, 'Parquet');
    const wanted = o.columns ?? all;
    const read = wanted.filter((c) => own.includes(c));
    const uuids = uuidColumns(pinned.meta);
    // A file of no row groups still has its columns: one empty batch carries them.
    const parts = pinned.groups.length ? pinned.groups : [{ offset: 0, rows: 0 }];
    const [from, to] = o.groups ?? [0, parts.length - 1];
    // The range was cut from this footer's layout: a file of other groups is another file (its fingerprint refuses it first).
    if (o.groups && (to >= pinned.groups.length || from > to)) throw new SourceError(`has ${pinned.groups.length} row groups, not the ${to + 1} the run's unit (row groups ${from}–${to}) was cut from: the file changed; run with --restart`, { file });
    for (const [index, group] of parts.entries()) {
      if (index < from || index > to) continue;
      let df: pl.DataFrame;
      try {
        df = polars().readParquet(pinned.groups.length ? await pinned.groupFile(index) : pinned.schemaFile(), { columns: read });
        if (uuids.length) df = uuidsAsText(df, uuids, file);
        if (hive.length) df = df.withColumns(...hive.map(([key, value]) => polars().lit(value).cast(polars().Utf8).alias(key)));
        df = df.select(...wanted);
      } catch (err) {
        if (err instanceof SourceError) throw err;
        throw new SourceError(`cannot read row group ${index} (rows ${group.offset}–${group.offset + group.rows - 1}): ${(err as Error).message}`, { file }, err);
      }
      rowGroupGauge.current++;
      rowGroupGauge.peak = Math.max(rowGroupGauge.peak, rowGroupGauge.current);
      try {
        yield* o.frames ? polarsToStandIns(df, o.batchRows) : polarsToBatches(df, o.batchRows);
      } finally {
        rowGroupGauge.current--;
      }
    }
  } finally {
    await pinned.close();
  }
}

/** Names of the schema root's children (the file's columns). */
function topLevelColumns(meta: ThriftStruct): string[] {
  const elements = ((field(meta, 2)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
  const names: string[] = [];
  const count = (at: number): number => {
    const children = Number((field(elements[at], 5)?.value as bigint | undefined) ?? 0n);
    let next = at + 1;
    for (let c = 0; c < children; c++) next = count(next);
    return next;
  };
  for (let at = 1; at < elements.length; at = count(at)) names.push(Buffer.from(field(elements[at], 4)?.value as Uint8Array).toString('utf8'));
  return names;
}
