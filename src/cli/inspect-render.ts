import path from 'node:path';
/** `sluice inspect` output: aligned text for people, one JSON document for scripts. */
import type { Inspection } from '../io/inspect';
import { bytes, count } from './format';
import { safeLine } from './terminal-text';

/** Files whose row groups are listed one by one (the rest are in --json). */
const DETAILED_FILES = 3;
const FORMAT_NAMES = { csv: 'CSV', parquet: 'Parquet', arrow: 'Arrow IPC', ndjson: 'NDJSON' } as const;
/** Widest value shown in the rows table; longer ones end in … (the JSON has them whole). */
const CELL = 32;

export function renderInspection(x: Inspection, rowsAsked: number): string {
  const out: string[] = [];
  const size = x.files.reduce((n, f) => n + f.bytes, 0);
  out.push(`${FORMAT_NAMES[x.format]}, ${count(x.files.length)} file(s), ${bytes(size)}, ${count(x.rows)} rows`);
  if (x.files.length > 1 || x.format === 'parquet') out.push('', filesTable(x));
  const detailed = x.files.filter((f) => f.parquet).slice(0, DETAILED_FILES);
  for (const f of detailed) {
    if (!f.parquet) continue;
    out.push('', `row groups of ${shown(f.file)}${f.parquet.createdBy ? ` (written by ${safeLine(f.parquet.createdBy)})` : ''}:`);
    const rows = f.parquet.rowGroups.map((g, i) => [String(i), count(g.rows), bytes(g.compressedBytes), bytes(g.uncompressedBytes), g.codecs.join(', ')]);
    out.push(indent(textTable(['#', 'rows', 'compressed', 'uncompressed', 'compression'], rows, [true, true, true, true, false])));
  }
  if (x.format === 'parquet' && x.files.length > detailed.length) out.push(`  (row groups of the other ${count(x.files.length - detailed.length)} files: --json)`);
  out.push('', 'schema:');
  const csv = x.format === 'csv';
  const schemaRows = x.schema.map((c) => [c.name, c.type, c.nullable ? 'yes' : 'no', ...(csv ? [c.csv ? `${c.csv.type}: ${c.csv.reason}` : ''] : [c.origin === 'path' ? 'from the path (key=value directories), as text' : c.origin === 'uuid' ? 'a Parquet UUID, read as its text (lowercase 8-4-4-4-12)' : ''])]);
  out.push(indent(textTable(['column', 'type', 'nullable', csv ? 'inferred' : 'note'], schemaRows)));
  const from = x.typesFrom;
  if (from?.by === 'source.inferRows') out.push(`  types inferred from ${count(from.rows)} row(s) from line ${from.firstLine} of ${shown(from.file)} (source.inferRows)`);
  if (from?.by === 'source.batchRows') out.push(`  types inferred from every line of the first batch: ${count(from.rows)} line(s) of ${shown(from.file)} (source.batchRows)`);
  for (const note of x.notes) out.push(`  note: ${safeLine(note)}`);
  if (rowsAsked > 0) {
    out.push('', `first ${count(x.preview.text.length)} row(s):`);
    const cells = x.preview.text.map((r) => r.map((v) => (v === null ? 'null' : clip(v))));
    out.push(indent(textTable(x.preview.columns.map(clip), cells)));
  }
  return out.join('\n');
}

function filesTable(x: Inspection): string {
  const hiveKeys = [...new Set(x.files.flatMap((f) => Object.keys(f.hive)))];
  const showHive = x.format !== 'csv' && hiveKeys.length > 0;
  const rows = x.files.map((f) => [
    shown(f.file),
    bytes(f.bytes),
    count(f.rows),
    ...(x.format === 'parquet' ? [count(f.parquet?.rowGroups.length ?? 0)] : []),
    ...(showHive ? [hiveKeys.map((k) => `${k}=${hiveValue(f.hive[k])}`).join(' ')] : []),
  ]);
  const header = ['file', 'bytes', 'rows', ...(x.format === 'parquet' ? ['row groups'] : []), ...(showHive ? ['hive columns'] : [])];
  return 'files:\n' + indent(textTable(header, rows, [false, true, true, true, false]));
}

/** Columns aligned; `right[c]` right-aligns column c (numbers). Every cell is shown terminal-safe (names and values come from data). */
function textTable(rawHeader: string[], rawRows: string[][], right: boolean[] = []): string {
  const header = rawHeader.map(safeLine);
  const rows = rawRows.map((r) => r.map(safeLine));
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A path under the working directory as relative, others as they are; terminal-safe. */
function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return safeLine(rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file);
}

function hiveValue(v: string | null | undefined): string {
  if (v === null || v === undefined) return 'null';
  return v === '' || /[\s"]/.test(v) ? JSON.stringify(v) : v;
}

function clip(v: string): string {
  const flat = v.replace(/\r?\n/g, '⏎');
  return flat.length > CELL ? `${flat.slice(0, CELL - 1)}…` : flat;
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

/**
 * One JSON document. Rows are objects of the values as the NDJSON sink writes them (64-bit
 * integers exact, so spliced in as text rather than through JSON.parse/stringify).
 */
export function inspectionJson(x: Inspection): string {
  // A token no file or column name holds, replaced by the rows' text once the rest is written.
  const token = `sluice-rows-${process.pid}-${Date.now()}`;
  const doc = {
    format: x.format,
    rows: x.rows,
    files: x.files,
    schema: x.schema,
    ...(x.typesFrom && { typesFrom: x.typesFrom }),
    notes: x.notes,
    preview: { columns: x.preview.columns, rows: token },
  };
  const rows = x.preview.json.map((r) => `{${r.map((v, c) => `${JSON.stringify(x.preview.columns[c])}:${v}`).join(',')}}`);
  return JSON.stringify(doc, null, 2).replace(JSON.stringify(token), () => `[${rows.join(',')}]`);
}
