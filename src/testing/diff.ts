/**
 * What differs between the batches a stage produced and what a test expected, as text a
 * person reads: schema differences first, then the row counts, then the first differing rows
 * with the columns that differ. `undefined` means equal.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Row } from './build';
import { batchesOf, formatRow, isBatchesLike, rowsOf, sameValue, type BatchesLike } from './values';

export interface DiffOptions {
  /** Compare rows in order (default) or as a multiset (each expected row matched once). */
  ordered?: boolean;
  /** Differing rows shown (default 5). */
  maxRows?: number;
}

interface Columns {
  names: string[];
  /** Arrow type of each column, when known (batches, not rows). */
  types?: Map<string, string>;
}

export function diffBatches(received: BatchesLike, expected: BatchesLike | readonly Row[], opts: DiffOptions = {}): string | undefined {
  const receivedBatches = batchesOf(received);
  const expectedIsBatches = isBatchesLike(expected);
  const expectedRows = expectedIsBatches ? rowsOf(expected) : [...(expected as readonly Row[])];
  const lines: string[] = [];

  const got = columnsOfBatches(receivedBatches, lines, 'received');
  const want = expectedIsBatches ? columnsOfBatches(batchesOf(expected), lines, 'expected') : columnsOfRows(expectedRows);
  // With nothing received there is no schema to compare: the row counts say it all.
  if (receivedBatches.length > 0 || expectedIsBatches) lines.push(...schemaDiff(want, got, expectedIsBatches));

  const receivedRows = rowsOf(receivedBatches);
  if (receivedRows.length !== expectedRows.length) lines.push(`rows: expected ${expectedRows.length}, received ${receivedRows.length}`);
  // Rows are shown with their own columns and compared on the columns both sides have
  // (a missing or extra column is already reported above).
  const shared = want.names.filter((n) => got.names.includes(n));
  const project = (names: string[]) => (row: Row) => Object.fromEntries(names.map((n) => [n, row[n] ?? null]));
  const [e, r] = [expectedRows.map(project(want.names)), receivedRows.map(project(got.names))];
  const maxRows = opts.maxRows ?? 5;
  lines.push(...((opts.ordered ?? true) ? orderedDiff(e, r, shared, maxRows) : unorderedDiff(e, r, shared, maxRows)));
  return lines.length ? lines.join('\n') : undefined;
}

function columnsOfBatches(batches: RecordBatch[], lines: string[], side: string): Columns {
  const [first] = batches;
  if (!first) return { names: [], types: new Map() };
  const describe = (b: RecordBatch) => b.schema.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ');
  const other = batches.find((b) => describe(b) !== describe(first));
  if (other) lines.push(`${side} batches differ in schema: { ${describe(first)} } and { ${describe(other)} }`);
  return { names: first.schema.fields.map((f) => f.name), types: new Map(first.schema.fields.map((f) => [f.name, String(f.type)])) };
}

function columnsOfRows(rows: readonly Row[]): Columns {
  const names: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!names.includes(key)) names.push(key);
  return { names };
}

function schemaDiff(want: Columns, got: Columns, checkTypes: boolean): string[] {
  const out: string[] = [];
  const typeOf = (c: Columns, n: string) => (c.types?.get(n) ? ` (${c.types.get(n)})` : '');
  for (const n of want.names) if (!got.names.includes(n)) out.push(`  ✖ missing column "${n}"${typeOf(want, n)}`);
  for (const n of got.names) if (!want.names.includes(n)) out.push(`  ✖ unexpected column "${n}"${typeOf(got, n)}`);
  if (checkTypes) {
    for (const n of want.names) {
      const [w, g] = [want.types?.get(n), got.types?.get(n)];
      if (w && g && w !== g) out.push(`  ✖ column "${n}": expected ${w}, received ${g}`);
    }
    const common = (a: string[], b: string[]) => a.filter((n) => b.includes(n));
    const [w, g] = [common(want.names, got.names), common(got.names, want.names)];
    if (out.length === 0 && w.join('\0') !== g.join('\0')) out.push(`  ✖ column order: expected ${w.join(', ')}; received ${g.join(', ')}`);
  }
  return out.length ? ['schema:', ...out] : [];
}

function differingColumns(expected: Row, received: Row, columns: string[]): string[] {
  return columns.filter((k) => !sameValue(expected[k], received[k]));
}

function orderedDiff(expected: Row[], received: Row[], shared: string[], maxRows: number): string[] {
  const out: string[] = [];
  let shown = 0;
  let more = 0;
  for (let i = 0; i < Math.max(expected.length, received.length); i++) {
    const [e, r] = [expected[i], received[i]];
    const columns = e && r ? differingColumns(e, r, shared) : [];
    if (e && r && columns.length === 0) continue;
    if (shown === maxRows) {
      more++;
      continue;
    }
    shown++;
    out.push(`row ${i}:`);
    if (e) out.push(`  - expected ${formatRow(e)}`);
    if (r) out.push(`  + received ${formatRow(r)}`);
    if (!e) out.push('    (no row expected here)');
    else if (!r) out.push('    (no row received)');
    else out.push(`    differs in: ${columns.join(', ')}`);
  }
  if (more) out.push(`… and ${more} more differing row${more === 1 ? '' : 's'}`);
  return out;
}

/** Each expected row matched with one equal received row; what is left over is the difference. */
function unorderedDiff(expected: Row[], received: Row[], shared: string[], maxRows: number): string[] {
  const unmatched = new Set(received.map((_, i) => i));
  const missing: Row[] = [];
  for (const e of expected) {
    const hit = [...unmatched].find((i) => differingColumns(e, received[i], shared).length === 0);
    if (hit === undefined) missing.push(e);
    else unmatched.delete(hit);
  }
  const extra = [...unmatched].map((i) => received[i]);
  const list = (title: string, rows: Row[]) =>
    rows.length ? [`${title} (${rows.length}):`, ...rows.slice(0, maxRows).map((r) => `  ${formatRow(r)}`), ...(rows.length > maxRows ? [`  … and ${rows.length - maxRows} more`] : [])] : [];
  return [...list('expected rows not received', missing), ...list('received rows not expected', extra)];
}
