/**
 * One schema for the sink, checked where the batches leave the last stage (or the source),
 * so a refusal names the stage and the batch, not only the sink's file; and before the
 * sink's own encoding (Parquet parts, partitions), which would otherwise meet the difference
 * later, or not at all. The sinks keep their own checks behind this one.
 *
 * What may differ between batches, per format (every batch's rows are written, as given):
 * - every format: field metadata (the file keeps the first batch's) and the nullable flag at
 *   any depth (Arrow writes every field nullable, writers/nullable.ts; Parquet too);
 * - Arrow: a dictionary column and its values (the file holds values, writers/dictionaries.ts);
 * - CSV / NDJSON: whatever writes alike as text (writers/text-kind.ts: Int32 and Int64, Utf8
 *   and LargeUtf8, a dictionary and its values), and a column with no value yet.
 * Anything else (another type, timestamp unit or zone, column order or names) is refused,
 * and so are duplicate column names, whatever the format: a file cannot hold two columns of
 * one name that every reader tells apart.
 */
import { DataType, type Field, type RecordBatch, type Schema } from 'apache-arrow';
import type { SinkConfig } from '../../config/types';
import { SinkError } from '../../errors';
import { textKind } from './writers/text-kind';

/** Where a batch came from, for messages: `stage "clean", batch #3`. */
export type BatchPlace = string;

export class OutputSchema {
  private first: { schema: Schema; place: BatchPlace } | undefined;
  /** Text sinks: each column's kind, from the first batch with a value in it. */
  private readonly kinds: ({ kind: string; place: BatchPlace } | undefined)[] = [];

  /** `existing`: checks the first batch against the output it is appended to (append-schema.ts). */
  constructor(
    private readonly format: SinkConfig['format'],
    private readonly existing?: (batch: RecordBatch, place: BatchPlace) => void,
  ) {}

  /** Whether any batch (rows or not) came: without one the output's columns are unknown. */
  get seen(): boolean {
    return this.first !== undefined;
  }

  /** Throws a SinkError naming `place` when `batch` cannot go into the same output as the batches before it. */
  check(batch: RecordBatch, place: BatchPlace): void {
    const names = batch.schema.fields.map((f) => f.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) {
      throw new SinkError(`${place} has two columns named "${dup}" (columns: ${names.join(', ')}); the ${this.format} sink writes one column per name: rename or drop one in the stage`);
    }
    const first = this.first;
    if (!first) {
      this.existing?.(batch, place);
      this.first = { schema: batch.schema, place };
      if (this.text) this.noteKinds(batch, place);
      return;
    }
    const before = first.schema.fields.map((f) => f.name);
    if (names.join('\0') !== before.join('\0')) {
      throw new SinkError(`${place} has columns (${names.join(', ')}) but ${first.place} had (${before.join(', ')}); every batch the ${this.format} sink writes must have the same columns in the same order`);
    }
    if (this.text) return this.noteKinds(batch, place);
    batch.schema.fields.forEach((field, c) => {
      const was = first.schema.fields[c];
      if (typeKey(field.type, this.format === 'arrow') !== typeKey(was.type, this.format === 'arrow')) {
        throw new SinkError(
          `${place} has column "${field.name}" as ${field.type} but ${first.place} had it as ${was.type}; every batch the ${this.format} sink writes must give a column the same type (nullable and field metadata may differ): cast it in the stage`,
        );
      }
    });
  }

  private get text(): boolean {
    return this.format === 'csv' || this.format === 'ndjson';
  }

  private noteKinds(batch: RecordBatch, place: BatchPlace): void {
    batch.schema.fields.forEach((field, c) => {
      const column = batch.getChildAt(c)!;
      if (column.nullCount === column.length) return; // no value: written alike whatever the type
      const kind = textKind(field.type);
      const before = this.kinds[c];
      if (!before) this.kinds[c] = { kind, place };
      else if (before.kind !== kind) {
        throw new SinkError(
          `${place} has ${kind} values in column "${field.name}" (${field.type}) but ${before.place} had ${before.kind} values; the ${this.format} sink would write them differently in one column: cast it in the stage`,
        );
      }
    });
  }
}

/**
 * A type as the sink sees it: without nullable flags (at any depth) and metadata; a top-level
 * dictionary as its values when `dictionaryAsValues`. `String(type)` names the children's types
 * but not their names, so those are added.
 */
export function typeKey(type: DataType, dictionaryAsValues: boolean): string {
  if (dictionaryAsValues && DataType.isDictionary(type)) return typeKey(type.dictionary, false);
  const children = (type.children as Field[] | undefined) ?? [];
  return children.length ? `${String(type)}{${children.map((f) => `${f.name}:${typeKey(f.type, false)}`).join(',')}}` : String(type);
}
