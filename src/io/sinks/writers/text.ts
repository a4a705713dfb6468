/** CSV (RFC 4180) and NDJSON writers: rows formatted per column, one write per batch. */
import { writeSync } from 'node:fs';
import type { RecordBatch } from 'apache-arrow';
import { SinkError } from '../../../errors';
import { fits, type CsvType } from '../../../csv/infer';
import { textKind } from './text-kind';
import { csvAppendPrefix, csvColumnTypes, ndjsonAppendPrefix } from './append-check';
import { jsonFormatter, textFormatter, type Formatter } from '../../../batch/text-values';
import type { FormatWriter, WriterOptions } from './types';
import { OutputFd } from './fd';

abstract class TextWriter implements FormatWriter {
  private readonly out: OutputFd;
  protected columns: string[] | undefined;
  /** What each column's values are written as (textKind), from the first batch with a value in it. */
  private readonly kinds: ({ kind: string; from: number } | undefined)[] = [];
  rows = 0;
  bytes = 0;

  constructor(
    readonly file: string,
    protected readonly opts: WriterOptions,
  ) {
    this.out = new OutputFd(file, opts.append ? 'a' : 'w');
  }

  write(batch: RecordBatch): void {
    const names = batch.schema.fields.map((f) => f.name);
    if (!this.columns) {
      this.columns = names;
      this.start(names);
    } else if (names.join('\u0000') !== this.columns.join('\u0000')) {
      throw new SinkError(`batch columns (${names.join(', ')}) differ from the first batch's (${this.columns.join(', ')}) in ${this.file}`);
    }
    this.checkKinds(batch, names);
    // By position: a stage may return two columns of one name, and each keeps its own values.
    const formatters = batch.schema.fields.map((f, c) => {
      try {
        return this.formatter(batch.getChildAt(c)!);
      } catch (err) {
        throw new SinkError(`cannot write column "${f.name}" to ${this.file}`, err);
      }
    });
    let text = '';
    let i = 0;
    try {
      for (; i < batch.numRows; i++) text += this.row(formatters, names, i);
    } catch (err) {
      // Only now find which column failed, so the row loop stays plain.
      const c = (err as { column?: number }).column ?? formatters.findIndex((f) => {
        try {
          f(i);
          return false;
        } catch {
          return true;
        }
      });
      throw new SinkError(`cannot write row ${this.rows + i + 1}, column "${names[c]}" to ${this.file}`, err);
    }
    this.put(text);
    this.rows += batch.numRows;
  }

  /**
   * The Parquet and Arrow sinks refuse a batch whose schema changed; text has no schema, so a
   * column that turned from numbers into strings (or bigints into floats) would be written as
   * given and read back mixed or as another type. Refuse that too, but only where the text
   * changes: a dictionary and its values, Int32 and Int64, or two timestamp units write alike,
   * and a column with no value yet (no rows, all null) takes its kind from the first value.
   */
  private checkKinds(batch: RecordBatch, names: string[]): void {
    batch.schema.fields.forEach((field, c) => {
      const column = batch.getChildAt(c)!;
      if (column.nullCount === column.length) return; // nulls write alike whatever the type: no row, or all null
      const kind = textKind(field.type);
      const before = this.kinds[c];
      if (before === undefined) this.kinds[c] = { kind, from: this.rows + 1 };
      else if (before.kind !== kind) {
        throw new SinkError(
          `column "${names[c]}" holds ${kind} values (${String(field.type)}) from row ${this.rows + 1}, but ${before.kind} values from row ${before.from} in ${this.file}; every batch must give a column the same type (cast it in the stage)`,
        );
      }
    });
  }

  protected put(text: string): void {
    if (!text) return;
    const buf = Buffer.from(text);
    let off = 0;
    const fd = this.out.fd;
    while (off < buf.length) off += writeSync(fd, buf, off);
    this.bytes += buf.length;
  }

  protected abstract start(names: string[]): void;
  protected abstract formatter(vector: ReturnType<RecordBatch['getChild']> & object): Formatter;
  protected abstract row(formatters: Formatter[], names: string[], i: number): string;

  suspend(): void {
    this.out.suspend();
  }

  async close(): Promise<void> {
    this.out.close();
  }

  async abort(): Promise<void> {
    try {
      this.out.close();
    } catch {
      // already closed
    }
  }
}

/** Quote a field when it holds the delimiter, a quote, CR or LF; double inner quotes. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export class CsvWriter extends TextWriter {
  /** Appending to rows already there: the type each column reads back as (text takes anything). */
  private appendTypes: (CsvType | undefined)[] = [];

  protected start(names: string[]): void {
    // An empty name is written quoted (""), as an empty value is: a lone empty header would be a blank line.
    const header = names.map((n) => (n === '' ? '""' : csvField(n))).join(',') + '\n';
    // Appending: same header or an error; the header itself if the file is empty; a missing final newline added.
    const prefix = this.opts.append ? csvAppendPrefix(this.file, names, header, this.opts.shownAs) : header;
    if (this.opts.append && prefix !== header) this.appendTypes = csvColumnTypes(this.file, this.opts.shownAs).map((t) => (t === 'utf8' ? undefined : t));
    this.put(prefix);
  }
  protected formatter(vector: Parameters<typeof textFormatter>[0]): Formatter {
    return textFormatter(vector);
  }
  protected row(formatters: Formatter[], _names: string[], i: number): string {
    let line = '';
    for (let c = 0; c < formatters.length; c++) {
      const v = formatters[c](i);
      const type = this.appendTypes[c];
      if (type && v !== null && !fits(type, v)) {
        throw Object.assign(
          new Error(
            `value ${JSON.stringify(v)} would not read back as ${type}, the type the column has in ${this.opts.shownAs ?? this.file}; sink.mode "append" needs values of the same type (cast them in a stage, write to another file, or use "overwrite")`,
          ),
          { column: c },
        );
      }
      // null → empty field; an empty string is written quoted ("") so the two stay distinct
      line += (c ? ',' : '') + (v === null ? '' : v === '' ? '""' : csvField(v));
    }
    return line + '\n';
  }
}

export class NdjsonWriter extends TextWriter {
  private keys: string[] = [];
  protected start(names: string[]): void {
    this.keys = names.map((n) => JSON.stringify(n));
    if (this.opts.append) this.put(ndjsonAppendPrefix(this.file, names, this.opts.shownAs));
  }
  protected formatter(vector: Parameters<typeof jsonFormatter>[0]): Formatter {
    return jsonFormatter(vector);
  }
  protected row(formatters: Formatter[], _names: string[], i: number): string {
    let line = '{';
    for (let c = 0; c < formatters.length; c++) line += `${c ? ',' : ''}${this.keys[c]}:${formatters[c](i) ?? 'null'}`;
    return line + '}\n';
  }
}
