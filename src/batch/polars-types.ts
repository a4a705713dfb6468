/**
 * The column types of a polars frame, read without asking nodejs-polars for them.
 *
 * nodejs-polars 0.24.1 cannot hand some polars types to JavaScript: Int128 (what NDJSON
 * integers beyond int64 become), Binary and fixed-size binary (Parquet binary and UUID
 * columns), Float16. Asking (`df.dtypes`, `df.schema`, `series.dtype`) throws "not yet
 * implemented", but only after Rust's panic hook has printed `thread '<unnamed>' panicked at
 * src/conversion.rs…` and a backtrace note on stderr, ahead of sluice's own error: text no
 * try/catch can take back, and that looks like a crash. The frame's schema as an Arrow IPC
 * stream of no rows names every type, nested ones too, at ~0.5 ms for ten columns; ask
 * polars only for frames this finds nothing in.
 */
import { DataType, MessageReader, Precision, type Field } from 'apache-arrow';
import type pl from 'nodejs-polars';
import './arrow-names'; // before any schema is decoded

/** The frame's columns as Arrow fields (polars' own IPC export of no rows). */
export function arrowFieldsOf(df: pl.DataFrame): Field[] {
  return new MessageReader(df.head(0).writeIPCStream()).readSchema()?.fields ?? [];
}

/** Where a type nodejs-polars cannot describe is (a path: `a`, `a.b`, `a[]`), and the type. */
export interface Undescribable {
  path: string;
  type: string;
}

/**
 * The first column whose type nodejs-polars cannot describe; undefined when `df.dtypes` is safe
 * to ask. A deny-list of what was seen to panic: a type missing here costs a panic's text on
 * stderr, where an allow-list that missed a type would refuse a good frame.
 */
export function undescribable(df: pl.DataFrame): Undescribable | undefined {
  return undescribableColumns(df).values().next().value;
}

/** Each top-level column that holds a type nodejs-polars cannot describe, with where and which. */
export function undescribableColumns(df: pl.DataFrame): Map<string, Undescribable> {
  let fields: Field[];
  try {
    fields = arrowFieldsOf(df);
  } catch (err) {
    // apache-arrow cannot decode the type either: polars will not describe it.
    return new Map([['', { path: '(a column)', type: (err as Error).message }]]);
  }
  const odd = new Map<string, Undescribable>();
  for (const f of fields) {
    const found = firstOdd([f], '');
    if (found) odd.set(f.name, found);
  }
  return odd;
}

/**
 * Each column's type as text: polars' name (`Int64`, `String`, `List(Int64)`), or for a column
 * nodejs-polars cannot describe, its Arrow name (`LargeBinary`, `Int128`), never asking for it.
 */
export function columnTypes(df: pl.DataFrame): { name: string; type: string }[] {
  const odd = undescribableColumns(df);
  const arrow = odd.size ? new Map(arrowFieldsOf(df).map((f) => [f.name, String(f.type)])) : undefined;
  return df.columns.map((name) => ({ name, type: odd.has(name) ? arrow!.get(name)! : String(df.getColumn(name).dtype).replace(/^DataType\((.*)\)$/, '$1') }));
}

function firstOdd(fields: Field[], prefix: string): { path: string; type: string } | undefined {
  for (const f of fields) {
    const path = prefix + f.name;
    if (cannotDescribe(f.type)) return { path, type: String(f.type) };
    const children = (f.type.children ?? []) as Field[];
    const inner = DataType.isList(f.type) || DataType.isFixedSizeList(f.type) || DataType.isLargeList(f.type);
    const odd = firstOdd(inner ? children.map((c) => c.clone({ name: '' })) : children, inner ? `${path}[]` : `${path}.`);
    if (odd) return odd;
  }
  return undefined;
}

function cannotDescribe(t: DataType): boolean {
  if (DataType.isInt(t)) return t.bitWidth > 64;
  if (DataType.isFloat(t)) return t.precision === Precision.HALF;
  return DataType.isBinary(t) || DataType.isLargeBinary(t) || DataType.isFixedSizeBinary(t) || DataType.isBinaryView(t);
}
