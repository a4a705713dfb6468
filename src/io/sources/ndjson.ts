/**
 * NDJSON, streaming by lines: `batchRows` lines per polars parse; the schema of the first
 * batch is fixed, later batches are cast to it strictly (a value that does not fit is an error).
 */
import pl, { type DataType } from 'nodejs-polars';
import { SourceError } from '../../errors';
import { polarsToBatches, type BatchWithLease } from './arrow-convert';
import { readBytes } from './bytes';
import { assertColumnsExist } from './columns';
import { hiveColumns } from './hive';

export async function* readNdjson(file: string, o: { batchRows: number; columns?: string[]; schema?: Record<string, unknown>; readSize?: number; onBytes?: (n: number) => void }): AsyncGenerator<BatchWithLease> {
  let schema: Record<string, DataType> | undefined;
  let pending: Buffer[] = [];
  let lines = 0;
  let firstLine = 1;
  let line = 1;
  const parse = (bytes: Buffer): BatchWithLease[] => {
    let df: pl.DataFrame;
    try {
      df = pl.readJSON(bytes, { format: 'lines' });
      const hive = hiveColumns(file).filter(([key]) => !df.columns.includes(key));
      if (!schema) assertColumnsExist(file, [...df.columns, ...hive.map(([key]) => key)], o, 'NDJSON');
      if (hive.length) df = df.withColumns(...hive.map(([key, value]) => pl.lit(value).cast(pl.Utf8).alias(key)));
      if (o.columns) df = df.select(...o.columns);
      if (!schema) schema = Object.fromEntries(df.columns.map((c, i) => [c, df.dtypes[i]]));
      else df = conform(df, schema);
    } catch (err) {
      if (err instanceof SourceError) throw err;
      throw new SourceError(`cannot read lines ${firstLine}–${line - 1}: ${(err as Error).message.split('\n')[0]}`, { file, line: firstLine }, err);
    }
    return [...polarsToBatches(df, o.batchRows)];
  };
  for await (const data of readBytes(file, o.readSize, o.onBytes)) {
    let start = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, nl + 1)) {
      line++;
      if (++lines < o.batchRows) continue;
      pending.push(data.subarray(start, nl + 1));
      yield* parse(Buffer.concat(pending));
      pending = [];
      lines = 0;
      firstLine = line;
      start = nl + 1;
    }
    if (start < data.length) pending.push(Buffer.from(data.subarray(start)));
  }
  const rest = Buffer.concat(pending);
  if (rest.toString('utf8').trim().length > 0) yield* parse(rest);
}

function conform(df: pl.DataFrame, schema: Record<string, DataType>): pl.DataFrame {
  const want = Object.keys(schema);
  const extra = df.columns.filter((c) => !(c in schema));
  if (extra.length) throw new Error(`unexpected field(s) ${extra.join(', ')} not in the first batch's schema (${want.join(', ')})`);
  return df.select(...want.map((c) => (df.columns.includes(c) ? pl.col(c).cast(schema[c], true) : pl.lit(null).cast(schema[c]).alias(c))));
}
