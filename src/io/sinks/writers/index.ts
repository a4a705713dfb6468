import type { SinkConfig } from '../../../config/types';
import { ArrowFileWriter } from './arrow';
import { ParquetWriter } from './parquet';
import { CsvWriter, NdjsonWriter } from './text';
import type { FormatWriter, WriterOptions } from './types';

export type { FormatWriter, WriterOptions } from './types';

export const EXTENSIONS: Record<SinkConfig['format'], string> = { parquet: 'parquet', csv: 'csv', ndjson: 'ndjson', arrow: 'arrow' };

export function createWriter(format: SinkConfig['format'], file: string, opts: WriterOptions): FormatWriter {
  switch (format) {
    case 'parquet':
      return new ParquetWriter(file, opts);
    case 'arrow':
      return new ArrowFileWriter(file);
    case 'csv':
      return new CsvWriter(file, opts);
    case 'ndjson':
      return new NdjsonWriter(file, opts);
  }
}
