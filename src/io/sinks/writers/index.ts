import type { SinkConfig } from '../../../config/types';
import { ArrowFileWriter } from './arrow';
import { ParquetPartWriter, ParquetWriter } from './parquet';
import { CsvWriter, NdjsonWriter } from './text';
import type { FormatWriter, WriterOptions } from './types';

export type { FormatWriter, WriterOptions } from './types';

export const EXTENSIONS: Record<SinkConfig['format'], string> = { parquet: 'parquet', csv: 'csv', ndjson: 'ndjson', arrow: 'arrow' };

export function createWriter(format: SinkConfig['format'], file: string, opts: WriterOptions): FormatWriter {
  switch (format) {
    case 'parquet':
      if (opts.parts) return new ParquetPartWriter(file);
      if (!opts.encoderPool) throw new Error('internal: a Parquet writer needs its sink\'s encoder pool');
      return new ParquetWriter(file, opts, opts.encoderPool());
    case 'arrow':
      return new ArrowFileWriter(file);
    case 'csv':
      return new CsvWriter(file, opts);
    case 'ndjson':
      return new NdjsonWriter(file, opts);
  }
}
